# Shared by every benchmark (sourced by lib.sh and proxy_lib.sh, after the
# script has set `name`): the repository root, a private copy of the built
# ferry binary, and a work directory removed at exit, after the functions
# named in `on_exit` have stopped what the benchmark started.
#
# Sets: repo, work, ferry, ferry_built, on_exit (an array of function names).
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
ferry_built=${FERRY_BIN:-$repo/build/ferry}
[[ -x $ferry_built ]] || { echo "$name: $ferry_built is not built (make build)" >&2; exit 2; }

work=$(mktemp -d "/tmp/ferry-$name.XXXXXX")
on_exit=()
cleanup() {
  local stop
  for stop in "${on_exit[@]}"; do "$stop" || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A private copy, so a rebuild during the run cannot swap the binary.
ferry=$work/ferry
cp "$ferry_built" "$ferry"
