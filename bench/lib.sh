# Shared by the database benchmarks (source it after setting `name`):
# common.sh, the throwaway servers in the work directory stopped at exit,
# and small timing and psql helpers.
#
# Sets: repo, work, ferry, ferry_built. Defines: psql_, now, elapsed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
chmod 755 "$work" # the servers (and pgcopydb) run as user postgres
stop_servers() {
  "$repo/scripts/pg-throwaway" stop "$work/src" >/dev/null 2>&1 || true
  "$repo/scripts/pg-throwaway" stop "$work/tgt" >/dev/null 2>&1 || true
}
on_exit+=(stop_servers)

psql_() { local db=$1; shift; PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
