#!/usr/bin/env bash
# Benchmark: `ferry db follow` draining a backlog, against PostgreSQL's native
# logical replication and pgcopydb's follow, on the same servers and the same
# backlog, in one run.
#
#   1. pgbench -i (SCALE) on the source; pgbench_history gets a key so every
#      table can be replicated by all three.
#   2. ferry db clone twice into two target databases: `ferry` (slot
#      ferry_bench) and `native` (slot native_bench). Both slots start before
#      the backlog and neither is read while it is written.
#   3. The backlog: pgbench (TPC-B-like, CLIENTS clients, SECONDS seconds) on
#      the source, then a marker in the WAL.
#   4. Drains, one after the other, each timed until its slot confirms the
#      marker:
#        ferry   ferry db follow --apply-jobs JOBS
#        native  CREATE SUBSCRIPTION ... (create_slot = false, copy_data =
#                false) on the `native` database, its one apply worker
#   5. pgcopydb: `pgcopydb clone --follow` (it decodes with wal2json, Debian's
#      postgresql-15-wal2json) into a third database while a
#      CLIENTS-client pgbench load runs, with a time limit: it reports whether
#      pgcopydb caught up, applied anything, or stalled.
#
# Prints the transactions of the backlog, each drain's time and rate, and
# ferry / native as a rate ratio (target: >= 1). Both targets are compared
# with the source afterwards (row counts and pgbench's balance sums) so a
# broken drain is reported as FAILED, not as fast.
#
# KEYLESS_HISTORY=1 leaves pgbench_history without a key, as pgbench makes it:
# ferry's clone then publishes it in ferry_insert_only (inserts and TRUNCATE),
# the native subscription takes both publications, and every backlog
# transaction inserts into that keyless table. PGCOPYDB_LIMIT=0 skips pgcopydb.
#
# usage: bench/follow_vs_native.sh [SCALE=10] [CLIENTS=4] [SECONDS=30] [JOBS=4] [PGCOPYDB_LIMIT=120]
set -euo pipefail
name=follow-bench
source "$(dirname "$0")/lib.sh"
scale=${1:-10}
clients=${2:-4}
seconds=${3:-30}
jobs=${4:-4}
pgcopydb_limit=${5:-120}
command -v pgcopydb >/dev/null && [[ -e /usr/lib/postgresql/15/lib/wal2json.so ]] || scripts/setup

src_server=$("$repo/scripts/pg-throwaway" start "$work/src" 2>/dev/null)
tgt_server=$("$repo/scripts/pg-throwaway" start "$work/tgt" 2>/dev/null)
src=${src_server%/postgres}/bench
tgt_base=${tgt_server%/postgres}
psql_ "$src_server" -c "CREATE DATABASE bench"
for db in ferry native pgcopydb; do psql_ "$tgt_server" -c "CREATE DATABASE $db"; done

echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM; load average at start:$(uptime | sed 's/.*load average://')"
echo "ferry: $ferry_built ($(stat -c %y "$ferry_built" | cut -d. -f1)); $(pgbench --version); $(pgcopydb --version 2>/dev/null | head -1)"
echo "pgbench scale $scale, backlog: $clients clients for $seconds s; ferry --apply-jobs $jobs"

pgbench -q -i -s "$scale" "$src" >/dev/null 2>&1
publications=ferry
if [[ ${KEYLESS_HISTORY:-0} == 1 ]]; then
  publications="ferry, ferry_insert_only"
  echo "pgbench_history without a key (KEYLESS_HISTORY=1): published for its inserts only"
else
  psql_ "$src" -c "ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY"
fi

"$ferry" db clone --source "$src" --target "$tgt_base/ferry" --dir "$work/run-ferry" \
  --slot ferry_bench >/dev/null 2>"$work/clone1.err" || { cat "$work/clone1.err" >&2; exit 1; }
"$ferry" db clone --source "$src" --target "$tgt_base/native" --dir "$work/run-native" \
  --slot native_bench >/dev/null 2>"$work/clone2.err" || { cat "$work/clone2.err" >&2; exit 1; }

pgbench -n -c "$clients" -j "$clients" -T "$seconds" "$src" >"$work/backlog.out" 2>&1
backlog_tx=$(awk '/number of transactions actually processed/ {print $NF}' "$work/backlog.out" | cut -d/ -f1)
backlog_tps=$(awk '/^tps/ {printf "%.0f", $3; exit}' "$work/backlog.out")
marker=$(psql_ "$src" -At -c "SELECT pg_logical_emit_message(false, 'ferry-bench', 'end')")
psql_ "$src" -At -c "SELECT txid_current()" >/dev/null
backlog_bytes=$(psql_ "$src" -At -c "SELECT pg_wal_lsn_diff('$marker', confirmed_flush_lsn) FROM pg_replication_slots WHERE slot_name = 'ferry_bench'")
echo "backlog: $backlog_tx transactions (source ran $backlog_tps tps), $((backlog_bytes / 1024 / 1024)) MiB of WAL"

# Seconds until SLOT has confirmed the marker (polling every 50 ms), or "timeout".
wait_slot() {
  local slot=$1 limit=$2 t0
  t0=$(now)
  while [[ $(psql_ "$src" -At -c "SELECT confirmed_flush_lsn >= '$marker' FROM pg_replication_slots WHERE slot_name = '$slot'") != t ]]; do
    if (($(echo "$(elapsed "$t0") > $limit" | bc))); then echo timeout; return; fi
    sleep 0.05
  done
  elapsed "$t0"
}

# Same rows as the source: counts and balance sums of the pgbench tables.
check() {
  local db=$1 q="SELECT (SELECT count(*) FROM pgbench_history), (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(bbalance) FROM pgbench_branches), (SELECT sum(tbalance) FROM pgbench_tellers)"
  [[ $(psql_ "$src" -At -c "$q") == $(psql_ "$db" -At -c "$q") ]] && echo ok || echo FAILED
}

"$ferry" db follow --source "$src" --target "$tgt_base/ferry" --dir "$work/run-ferry" \
  --slot ferry_bench --apply-jobs "$jobs" >/dev/null 2>"$work/follow.err" &
follow_pid=$!
ferry_s=$(wait_slot ferry_bench 1800)
kill -TERM "$follow_pid"; wait "$follow_pid" || true
ferry_ok=$(check "$tgt_base/ferry")
conflicts=$(grep -o '"conflicts": [0-9]*' "$work/run-ferry/follow-status.json" | awk '{print $2}')

psql_ "$tgt_base/native" -c "CREATE SUBSCRIPTION native_bench CONNECTION '$src' PUBLICATION $publications WITH (create_slot = false, slot_name = 'native_bench', copy_data = false)"
native_s=$(wait_slot native_bench 1800)
psql_ "$tgt_base/native" -c "ALTER SUBSCRIPTION native_bench DISABLE" -c "ALTER SUBSCRIPTION native_bench SET (slot_name = NONE)" -c "DROP SUBSCRIPTION native_bench"
native_ok=$(check "$tgt_base/native")

rate() { [[ $1 == timeout ]] && echo 0 || echo "$backlog_tx / $1" | bc; }
printf '%-8s %10s %12s  %s\n' tool seconds "tx/s" check
printf '%-8s %10.2f %12s  %s (%s conflicts retried in order)\n' ferry "$ferry_s" "$(rate "$ferry_s")" "$ferry_ok" "${conflicts:-0}"
printf '%-8s %10.2f %12s  %s\n' native "$native_s" "$(rate "$native_s")" "$native_ok"
echo "ratio ferry/native (apply rate): $(echo "scale=2; $(rate "$ferry_s") / $(rate "$native_s")" | bc)"

[[ $pgcopydb_limit -gt 0 ]] || exit 0
# pgcopydb clone --follow under a live load: does it keep up, or stall?
as_postgres() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$work/pgcopydb" && chown postgres "$work/pgcopydb" 2>/dev/null || true
pgbench -n -c "$clients" -j "$clients" -T "$pgcopydb_limit" "$src" >"$work/load.out" 2>&1 &
load_pid=$!
t0=$(now)
as_postgres timeout "$((pgcopydb_limit + 60))" pgcopydb clone --follow --source "$src" \
  --target "$tgt_base/pgcopydb" --dir "$work/pgcopydb/run" --slot-name pgcopydb_bench \
  >"$work/pgcopydb.out" 2>&1 &
pgcopydb_pid=$!
wait "$load_pid" || true
marker=$(psql_ "$src" -At -c "SELECT pg_logical_emit_message(false, 'ferry-bench', 'end2')")
psql_ "$src" -At -c "SELECT txid_current()" >/dev/null
applied_at_end=$(psql_ "$tgt_base/pgcopydb" -At -c "SELECT count(*) FROM pgbench_history" 2>/dev/null || echo 0)
caught=$(wait_slot pgcopydb_bench 60)
applied_after=$(psql_ "$tgt_base/pgcopydb" -At -c "SELECT count(*) FROM pgbench_history" 2>/dev/null || echo 0)
source_history=$(psql_ "$src" -At -c "SELECT count(*) FROM pgbench_history")
kill "$pgcopydb_pid" 2>/dev/null || true
pgcopydb_status=0
wait "$pgcopydb_pid" 2>/dev/null || pgcopydb_status=$?
echo "pgcopydb clone --follow under a $clients-client load for ${pgcopydb_limit} s:"
echo "  pgbench_history rows: source $source_history; pgcopydb's target $applied_at_end when the load ended, $applied_after when stopped"
echo "  caught up with the source: $([[ $caught == timeout ]] && echo "no (not within 60 s after the load ended)" || echo "yes, $caught s after the load ended")"
echo "  exit status when stopped: $pgcopydb_status; last lines of its log:"
tail -n 5 "$work/pgcopydb.out" | sed 's/^/    /'
