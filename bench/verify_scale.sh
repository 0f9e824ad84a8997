#!/usr/bin/env bash
# Benchmark: `ferry db verify` on one table of ROWS rows (pgbench_accounts-like:
# int primary key, two ints, char(84)) that is identical on a source and a target
# server, against what an engineer would do by hand: count the rows and read the
# whole table on both servers at once.
#
#   baseline     on both servers in parallel: SELECT count(*) FROM t, then
#                COPY t TO STDOUT into /dev/null (every column of every row
#                leaves the server); also shown, for context, the in-server
#                equivalent SELECT sum(hashtext(t::text)) FROM t
#   equal        ferry db verify --tables public.t --jobs J (rows only) on equal
#                tables: must exit 0
#   one changed  the same after an UPDATE of one column of one row on the
#                target: must exit 1 and name that row's key
#
# Each measurement runs RUNS times (3) after one warm-up scan; medians are
# reported. Targets: equal / baseline <= 1.5, one changed / equal <= 1.2.
#
# usage: bench/verify_scale.sh [ROWS=5000000] [JOBS=2]
#        FERRY_BIN=path/to/ferry RUNS=5 bench/verify_scale.sh ...
set -euo pipefail
name=verify-bench
source "$(dirname "$0")/lib.sh"
rows=${1:-5000000}
jobs=${2:-2}
runs=${RUNS:-3}

src=$("$repo/scripts/pg-throwaway" start "$work/src" 2>/dev/null)
tgt=$("$repo/scripts/pg-throwaway" start "$work/tgt" 2>/dev/null)

echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM, $(uname -r); load average at start:$(uptime | sed 's/.*load average://')"
echo "ferry: $ferry_built ($(stat -c %y "$ferry_built" | cut -d. -f1)); table t: $rows rows; jobs $jobs; $runs runs each, median"

t0=$(now)
psql_ "$src" <<SQL
CREATE TABLE t (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, filler char(84));
INSERT INTO t
SELECT i, (i - 1) / 100000 + 1, (i::bigint * 7919 % 100001)::int - 50000, 'acct ' || md5(i::text)
FROM generate_series(1, $rows) AS i;
SQL
# The target gets the same table through pg_dump, independent of ferry.
pg_dump -d "$src" -t public.t | psql_ "$tgt" >/dev/null
for db in "$src" "$tgt"; do psql_ "$db" -c "VACUUM ANALYZE t" -c "CHECKPOINT"; done
echo "table size: $(psql_ "$src" -At -c "SELECT pg_size_pretty(pg_table_size('t')) || ' heap, ' || pg_size_pretty(pg_indexes_size('t')) || ' index'"); loaded in $(printf '%.0f' "$(elapsed "$t0")") s"

on_both() {  # count(*) then the given read of every row, both servers at once
  local db pids=()
  for db in "$src" "$tgt"; do
    psql_ "$db" -At -c "SELECT count(*) FROM t" -c "$1" >/dev/null &
    pids+=($!)
  done
  wait "${pids[0]}" && wait "${pids[1]}"
}
scan_copy() { on_both "COPY t TO STDOUT"; }                  # every row out through COPY
scan_hash() { on_both "SELECT sum(hashtext(t::text)) FROM t"; }  # the same read, hashed inside each server
verify() {
  "$ferry" db verify --source "$src" --target "$tgt" --tables public.t --jobs "$jobs" \
    --skip schema --skip sequences --skip settings "$@"
}

median_seconds() {  # runs "$@" $runs times; prints the median wall time; the command's
  local times=() i t  # exit status must be $expect
  for ((i = 0; i < runs; i++)); do
    t=$(now)
    set +e
    "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    set -e
    times+=("$(elapsed "$t")")
    if [[ $rc -ne $expect ]]; then
      echo "verify_scale: '$*' exited $rc, expected $expect" >&2
      tail -30 "$work/out" "$work/err" >&2
      exit 1
    fi
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

expect=0
scan_copy # warm-up: both tables into the page cache
base=$(median_seconds scan_copy)
hash=$(median_seconds scan_hash)
equal=$(median_seconds verify)

key=$((rows * 37 / 100 + 1))
psql_ "$tgt" -c "UPDATE t SET abalance = abalance + 1 WHERE aid = $key"
expect=1
changed=$(median_seconds verify)
if ! grep -qw "$key" "$work/out"; then
  echo "verify_scale: ferry exited 1 but did not name key $key:" >&2
  cat "$work/out" >&2
  exit 1
fi
echo "one changed row (aid = $key): ferry exits 1 and names it:"
grep -w "$key" "$work/out" | head -3 | sed 's/^/  /'
echo

printf '%-58s %9s\n' "measurement" "median s"
printf '%-58s %9.2f\n' "baseline: count(*) + COPY t TO STDOUT >/dev/null, both" "$base"
printf '%-58s %9.2f\n' "(context) count(*) + sum(hashtext(t::text)), both" "$hash"
printf '%-58s %9.2f\n' "ferry db verify, equal tables" "$equal"
printf '%-58s %9.2f\n' "ferry db verify, one row changed" "$changed"
echo
printf '%-40s %6s   %s\n' ratio value target
printf '%-40s %6.2f   %s\n' "verify equal / baseline (COPY)" "$(echo "$equal / $base" | bc -l)" "<= 1.5"
printf '%-40s %6.2f   %s\n' "verify equal / sum(hashtext) scan" "$(echo "$equal / $hash" | bc -l)" "(context)"
printf '%-40s %6.2f   %s\n' "verify one changed / verify equal" "$(echo "$changed / $equal" | bc -l)" "<= 1.2"
echo "load average at end:$(uptime | sed 's/.*load average://')"
