# Thin wrapper over scripts/setup, CMake and CTest. Every target runs setup
# first; setup returns at once when the machine already has everything.
BUILD := build
FERRY := $(BUILD)/ferry
DEMO_INPUTS := examples/estate.yaml

.PHONY: setup build test demo clean

setup:
	@scripts/setup

$(BUILD)/build.ninja: CMakeLists.txt CMakePresets.json | setup
	@cmake --preset default >/dev/null

build: setup $(BUILD)/build.ninja
	@cmake --build --preset default

test: build
	@ctest --preset default

demo: build
	@mkdir -p $(BUILD)/demo
	@$(FERRY) assess $(DEMO_INPUTS) --format markdown --out $(BUILD)/demo/plan.md
	@$(FERRY) assess $(DEMO_INPUTS) --format html --out $(BUILD)/demo/plan.html
	@$(FERRY) assess $(DEMO_INPUTS) --format table
	@echo
	@echo "Full plan: $(BUILD)/demo/plan.md   Dependency graph and timeline: $(BUILD)/demo/plan.html"

clean:
	rm -rf $(BUILD)
