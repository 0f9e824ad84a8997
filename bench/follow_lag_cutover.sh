#!/usr/bin/env bash
# Benchmark: `ferry db follow` in steady state and `ferry db cutover` under
# load, at the highest pgbench rate this machine sustains while follow runs:
#
#   1. pgbench -i (SCALE); pgbench_history gets a key; ferry db clone; ferry db
#      follow --apply-jobs JOBS starts.
#   2. Steady state, twice: pgbench with CLIENTS clients for SECONDS s,
#      unthrottled, then rate-limited (-R) to 80 % of the rate it reached.
#      The lag of each applied transaction (source commit to target commit,
#      same clock) is what follow reports; its 99th percentile over the last
#      minute is read from `ferry db status --format json` after each phase,
#      and the lag in seconds is sampled every 0.5 s on the way (max reported).
#   3. Cutover under load: a new pgbench run; 5 s in, ferry db cutover --grace
#      GRACE runs; its JSON report gives each step's time and the
#      write-unavailable time (read-only on to switched).
#
# Targets: lag p99 < 1 s; write-unavailable < 1 s + the grace period.
#
# usage: bench/follow_lag_cutover.sh [SCALE=10] [CLIENTS=4] [SECONDS=60] [JOBS=4] [GRACE=1]
set -euo pipefail
name=lag-bench
source "$(dirname "$0")/lib.sh"
scale=${1:-10}
clients=${2:-4}
seconds=${3:-60}
jobs=${4:-4}
grace=${5:-1}

src_server=$("$repo/scripts/pg-throwaway" start "$work/src" 2>/dev/null)
tgt_server=$("$repo/scripts/pg-throwaway" start "$work/tgt" 2>/dev/null)
src=${src_server%/postgres}/bench
tgt=${tgt_server%/postgres}/bench
psql_ "$src_server" -c "CREATE DATABASE bench"
psql_ "$tgt_server" -c "CREATE DATABASE bench"
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM; load average at start:$(uptime | sed 's/.*load average://')"
echo "pgbench scale $scale, $clients clients unthrottled for $seconds s; follow --apply-jobs $jobs; cutover --grace $grace"

pgbench -q -i -s "$scale" "$src" >/dev/null 2>&1
psql_ "$src" -c "ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY"
"$ferry" db clone --source "$src" --target "$tgt" --dir "$work/run" >/dev/null 2>"$work/clone.err" ||
  { cat "$work/clone.err" >&2; exit 1; }
"$ferry" db follow --source "$src" --target "$tgt" --dir "$work/run" --apply-jobs "$jobs" \
  >"$work/follow.out" 2>"$work/follow.err" &
follow_pid=$!
sleep 2

# One steady-state phase: pgbench for $seconds s (extra options in $@) while
# the lag is sampled; then follow's own p99 over the last minute.
steady() {
  pgbench -n -c "$clients" -j "$clients" -T "$seconds" "$@" "$src" >"$work/steady.out" 2>&1 &
  local load_pid=$! max_lag=0 lag status
  while kill -0 "$load_pid" 2>/dev/null; do
    lag=$("$ferry" db status --dir "$work/run" --format json | awk -F': ' '/"lag_seconds"/ {gsub(",", "", $2); print $2}')
    max_lag=$(echo "if ($lag > $max_lag) $lag else $max_lag" | bc)
    sleep 0.5
  done
  wait "$load_pid" || true
  status=$("$ferry" db status --dir "$work/run" --format json)
  get() { echo "$status" | awk -F': ' -v k="\"$1\"" '$1 ~ k {gsub(",", "", $2); print $2}'; }
  tps=$(awk '/^tps/ {printf "%.0f", $3; exit}' "$work/steady.out")
  echo "  source $tps tps; lag p99 over the last minute $(get lag_p99_ms) ms (target < 1000); max sampled lag ${max_lag} s; conflicts retried $(get conflicts)"
}
echo "steady state, pgbench unthrottled (the source takes all the CPU it can get):"
steady
# What the machine sustains with follow keeping up: 80 % of that rate.
rate=$((tps * 8 / 10))
echo "steady state, pgbench at $rate tps (-R, 80 % of the unthrottled rate):"
steady -R "$rate"

pgbench -n -c "$clients" -j "$clients" -T 30 "$src" >"$work/cutover-load.out" 2>&1 &
load_pid=$!
sleep 5
"$ferry" db cutover --source "$src" --target "$tgt" --dir "$work/run" --grace "$grace" \
  --format json >"$work/cutover.json" 2>"$work/cutover.err" || { cat "$work/cutover.err" >&2; }
wait "$load_pid" || true
wait "$follow_pid" || true
echo "cutover under load (pgbench's sessions are ended by it):"
awk -F': ' '/"name"|"seconds"|"write_unavailable_seconds"|"switched"/ {gsub(/[",]/, "", $2); printf "  %s %s\n", $1, $2}' "$work/cutover.json" |
  sed 's/"//g' | paste - - | sed 's/  *name /  /; s/ seconds / /'
