#!/usr/bin/env bash
# The Debian package as a user gets it: CPack builds it from the build tree,
# dpkg unpacks it into a scratch root, and ferry runs from there with the
# source tree out of sight (a temporary working directory, only installed
# paths). Checks the binary, an assess of the installed example with the
# installed rules and catalog, the man pages, bash completion, the systemd
# units and the package's declared dependencies.
#
# usage: tests/package_check.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?usage: $0 BUILD_DIR}")
for tool in cpack dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "package_check: no $tool" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "package_check: $*" >&2; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 ||
  fail "cpack failed: $(cat "$work/cpack.log")"
deb=$(ls "$work"/out/ferry_*.deb)
dpkg-deb -f "$deb" Depends | grep -q 'libpq5' || fail "Depends does not name libpq5: $(dpkg-deb -f "$deb" Depends)"
root=$work/root
dpkg-deb -x "$deb" "$root"
cd "$work"

ferry=$root/usr/bin/ferry
version=$("$ferry" --version)
[[ $version =~ ^ferry\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "ferry --version said: $version"
share=$root/usr/share/ferry
"$ferry" assess "$share/examples/estate.yaml" --rules "$share/rules.yaml" \
  --catalog "$share/catalog.yaml" --format json --out plan.json 2>assess.log ||
  fail "assess from the installed paths failed: $(cat assess.log)"
grep -q '"waves"' plan.json || fail "assess from the installed paths wrote no waves"
"$ferry" proxy --check --config "$share/examples/proxy/strangler.yaml" >/dev/null ||
  fail "the installed proxy example does not load"

# A man page per command, each the command's own help.
for page in ferry ferry-assess ferry-db ferry-db-clone ferry-db-follow ferry-db-cutover \
  ferry-db-rollback ferry-proxy ferry-proxy-rollout ferry-proxy-rollout-status \
  ferry-proxy-rollout-abort; do
  file=$root/usr/share/man/man1/$page.1.gz
  [[ -f $file ]] || fail "no man page $page(1)"
  zcat "$file" | grep -q "^\.TH ${page^^} \"1\"" || fail "$page.1.gz is not a section 1 man page"
done
zcat "$root/usr/share/man/man1/ferry-db-clone.1.gz" | grep -q -- 'resume' ||
  fail "ferry-db-clone(1) does not describe --resume"
! zcat "$root"/usr/share/man/man1/*.gz | grep -q "$work" || fail "a man page names a build path"

# Bash completion, asking the installed binary.
completion=$root/usr/share/bash-completion/completions/ferry
[[ -f $completion ]] || fail "no bash completion"
if [[ -f /usr/share/bash-completion/bash_completion ]]; then
  complete_words() {
    PATH=$root/usr/bin:$PATH bash -c '
      source /usr/share/bash-completion/bash_completion
      source "$0"
      COMP_WORDS=("${@}"); COMP_CWORD=$(($# - 1))
      COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
      _ferry; echo "${COMPREPLY[*]}"' "$completion" "$@"
  }
  [[ $(complete_words ferry db c) == "check clone cutover" ]] ||
    fail "ferry db c<TAB> gave: $(complete_words ferry db c)"
  [[ $(complete_words ferry db clone --sl) == "--slot" ]] ||
    fail "ferry db clone --sl<TAB> gave: $(complete_words ferry db clone --sl)"
  [[ $(complete_words ferry assess --format '') == "text table markdown json html csv" ]] ||
    fail "ferry assess --format <TAB> gave: $(complete_words ferry assess --format '')"
  [[ $(complete_words ferry db follow --log-f) == "--log-format" ]] ||
    fail "ferry db follow --log-f<TAB> gave: $(complete_words ferry db follow --log-f)"
  [[ $(complete_words ferry db status --format '') == "text json" ]] ||
    fail "ferry db status --format <TAB> gave: $(complete_words ferry db status --format '')"
  [[ $(complete_words ferry proxy rollout s) == "status start" ]] ||
    fail "ferry proxy rollout s<TAB> gave: $(complete_words ferry proxy rollout s)"
  [[ $(complete_words ferry proxy rollout pause --tok) == "--token-file" ]] ||
    fail "ferry proxy rollout pause --tok<TAB> gave: $(complete_words ferry proxy rollout pause --tok)"
fi

# The units as installed, pointed at the installed binary.
units=$root/usr/lib/systemd/system
for unit in ferry-proxy@ ferry-follow@ ferry-follow-reverse@; do
  [[ -f $units/$unit.service ]] || fail "systemd unit $unit.service missing"
done
if command -v systemd-analyze >/dev/null; then
  for unit in "$units"/*@.service; do
    name=$(basename "$unit")
    sed "s|/usr/bin/ferry|$ferry|g" "$unit" >"$work/$name"
    ln -s "$name" "$work/${name/@./@pkg.}"
    out=$(systemd-analyze verify --man=no "$work/${name/@./@pkg.}" 2>&1) || fail "$name: $out"
  done
fi
dpkg-deb -e "$deb" "$work/control"
sh -n "$work/control/postinst" || fail "postinst is not valid sh"
echo "package_check: $(basename "$deb") installs and runs from $(dpkg-deb -c "$deb" | wc -l) paths"
