# Shared by the database benchmarks (source it after setting `name`):
# the work directory with the throwaway servers and its cleanup, a private copy
# of the ferry binary, and small timing and psql helpers.
#
# Sets: repo, work, ferry, ferry_built. Defines: psql_, now, elapsed.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
ferry_built=${FERRY_BIN:-$repo/build/ferry}
[[ -x $ferry_built ]] || { echo "$name: $ferry_built is not built (make build)" >&2; exit 2; }

work=$(mktemp -d "/tmp/ferry-$name.XXXXXX")
chmod 755 "$work" # the servers (and pgcopydb) run as user postgres
cleanup() {
  "$repo/scripts/pg-throwaway" stop "$work/src" >/dev/null 2>&1 || true
  "$repo/scripts/pg-throwaway" stop "$work/tgt" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A private copy, so a rebuild during the run cannot swap the binary.
ferry=$work/ferry
cp "$ferry_built" "$ferry"

psql_() { local db=$1; shift; PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
