# Thin wrapper over scripts/setup, CMake and CTest. Every target runs setup
# first; setup returns at once when the machine already has everything.
BUILD := build
FERRY := $(BUILD)/ferry
DEMO_INPUTS := examples/estate.yaml

FUZZ_SECONDS ?= 20

.PHONY: setup build test test-fast fuzz demo demo-rollback demo-db package install clean

setup:
	@scripts/setup

$(BUILD)/build.ninja: CMakeLists.txt CMakePresets.json | setup
	@cmake --preset default >/dev/null

build: setup $(BUILD)/build.ninja
	@cmake --build --preset default

# The whole suite: unit and end-to-end tests, then every fuzz target for a
# bounded time (FUZZ_SECONDS each) under ASan and UBSan.
test: build
	@ctest --preset default
	@fuzz/run.sh $(FUZZ_SECONDS) 1

# The unit tests alone (CTest label `unit`): pure logic, no servers, seconds.
# Other labels: pg (real PostgreSQL), proxy (real HTTP), e2e (the binary's CLI,
# JSON contract, a browser); e.g. `ctest --preset default -L pg`.
test-fast: build
	@ctest --preset default -L unit

# A Debian package (build/ferry_VERSION_ARCH.deb): the binary, man pages, bash
# completion, systemd units, shipped data, examples and docs.
package: build
	@cd $(BUILD) && cpack -G DEB

# Installs into PREFIX (default /usr/local); DESTDIR works as usual.
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

fuzz: setup
	@fuzz/run.sh $(FUZZ_SECONDS)

demo: build
	@mkdir -p $(BUILD)/demo
	@$(FERRY) assess $(DEMO_INPUTS) --format markdown --out $(BUILD)/demo/plan.md
	@$(FERRY) assess $(DEMO_INPUTS) --format html --out $(BUILD)/demo/plan.html
	@$(FERRY) assess $(DEMO_INPUTS) --format table
	@echo
	@echo "Full plan: $(BUILD)/demo/plan.md   Dependency graph and timeline: $(BUILD)/demo/plan.html"
	@echo
	@scripts/demo-run $(FERRY) $(BUILD)/demo/run

# The demo's migration with a broken modern version: the rollout's analysis
# rolls it back and the run walks its way back on its own.
demo-rollback: build
	@scripts/demo-run --broken $(FERRY) $(BUILD)/demo/run

# The data pillar alone: ferry db check, clone, follow, cutover, rollback, verify.
demo-db: build
	@scripts/demo-db $(FERRY) $(BUILD)/demo/db

clean:
	rm -rf $(BUILD) build-fuzz
