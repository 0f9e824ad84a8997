#!/usr/bin/env bash
# Benchmark: `ferry db clone` against the tools it replaces, in one run on the
# same two servers and the same dataset (bench/gen_clone_dataset.sh):
#
#   ferry      ferry db clone --no-slot --jobs J --index-jobs J
#   pgcopydb   pgcopydb clone --table-jobs J --index-jobs J (as OS user postgres:
#              pgcopydb refuses to run as root; without --follow it needs no slot
#              and no extra flag, it exports its own snapshot)
#   dump       pg_dump -Fd -j J, then pg_restore -j J (the sum is timed)
#   pipe       data only: per table `psql -c "COPY t TO STDOUT" | psql -c "COPY t
#              FROM STDIN"`, J tables at a time, into a schema restored with
#              pg_dump --section=pre-data beforehand (no indexes); only the
#              copying is timed, and compared with ferry's own data step
#
# Each tool writes into a fresh empty database on the target server, and its
# row counts are checked against the source afterwards, so a broken run is
# reported as FAILED rather than as fast. Tools run once per round, R rounds,
# and the order rotates from round to round. Ratios use the median over rounds.
#
# Targets: ferry / pgcopydb <= 0.8,
# ferry / (pg_dump + pg_restore) < 1, ferry data rate / pipe data rate >= 0.9.
#
# Both servers are throwaway clusters (scripts/pg-throwaway: fsync off, 128MB
# shared_buffers; FERRY_PG_EXTRA_CONF adds lines to both). The source data sits
# in the OS page cache for every tool alike.
#
# usage: bench/clone_vs_pgcopydb.sh [SCALE_GB=1] [JOBS=2] [ROUNDS=1]
#        FERRY_BIN=path/to/ferry bench/clone_vs_pgcopydb.sh ...   (default build/ferry)
#        FERRY_CLONE_ARGS="--toast-compression server" bench/clone_vs_pgcopydb.sh ...
set -euo pipefail
name=clone-bench
source "$(dirname "$0")/lib.sh"
scale_gb=${1:-1}
jobs=${2:-2}
rounds=${3:-1}
# Extra `ferry db clone` options, e.g. FERRY_CLONE_ARGS="--toast-compression server".
read -r -a ferry_args <<<"${FERRY_CLONE_ARGS:-}"
command -v pgcopydb >/dev/null || scripts/setup
[[ $(id -u) -ne 0 ]] || id postgres >/dev/null 2>&1 || { echo "clone_vs_pgcopydb: running as root needs an OS user postgres" >&2; exit 2; }

as_postgres() {  # pgcopydb must not run as root
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

src_server=$("$repo/scripts/pg-throwaway" start "$work/src" 2>/dev/null)
tgt_server=$("$repo/scripts/pg-throwaway" start "$work/tgt" 2>/dev/null)
src=${src_server%/postgres}/bench
psql_ "$src_server" -c "CREATE DATABASE bench"

echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM, $(uname -r); load average at start:$(uptime | sed 's/.*load average://')"
echo "ferry: $ferry_built ($(stat -c %y "$ferry_built" | cut -d. -f1)); $(pgcopydb --version 2>/dev/null | head -1); $(pg_dump --version)"
echo "dataset: ${scale_gb} GB (bench/gen_clone_dataset.sh); jobs $jobs; $rounds round(s)"
t0=$(now)
if ! bench/gen_clone_dataset.sh "$src" "$scale_gb" >"$work/gen.out" 2>&1; then
  cat "$work/gen.out" >&2
  echo "clone_vs_pgcopydb: generating the dataset failed" >&2
  exit 1
fi
sed -n '/database size/,$p' "$work/gen.out" | sed -n '3p' |
  awk '{print "source database size: " $1 " " $2 " (" $4 " bytes)"}'
echo "generated in $(printf '%.0f' "$(elapsed "$t0")") s"
psql_ "$src" -c "CHECKPOINT"

# Row counts on the source, one "table count" line per user table, and the data
# size the copy has to move (heap + TOAST, no indexes) for the rate comparison.
count_rows() {
  local db=$1 t
  for t in $(psql_ "$src" -At -c "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables ORDER BY 1"); do
    echo "$t $(psql_ "$db" -At -c "SELECT count(*) FROM $t" 2>/dev/null || echo missing)"
  done
}
src_counts=$(count_rows "$src")
data_bytes=$(psql_ "$src" -At -c "SELECT sum(pg_table_size(relid)) FROM pg_stat_user_tables")
echo "source rows: $(echo "$src_counts" | tr '\n' ' ')"
echo "table data (heap + TOAST, no indexes): $(echo "$data_bytes / 1048576" | bc) MB"
echo

declare -A secs  # secs[tool,round]
declare -A notes
failures=0

fresh_target() {  # creates an empty database on the target server, prints its URI
  local name=$1
  psql_ "$tgt_server" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" -c "CHECKPOINT"
  echo "${tgt_server%/postgres}/$name"
}

check_and_drop() {  # compares row counts with the source, then drops the database
  local tool=$1 r=$2 name=$3 got
  got=$(count_rows "${tgt_server%/postgres}/$name")
  if [[ "$got" != "$src_counts" ]]; then
    echo "FAILED: $tool round $r: row counts differ from the source:" >&2
    diff <(echo "$src_counts") <(echo "$got") >&2 || true
    secs[$tool,$r]=FAILED
    failures=$((failures + 1))
  fi
  psql_ "$tgt_server" -c "DROP DATABASE $name"
}

run_ferry() {
  local r=$1 tgt t out=$work/ferry-$1
  tgt=$(fresh_target "t_ferry_$r")
  mkdir -p "$out"
  t=$(now)
  if "$ferry" db clone --source "$src" --target "$tgt" --dir "$out/dir" --no-slot \
    --jobs "$jobs" --index-jobs "$jobs" "${ferry_args[@]}" --format json >"$out/summary.json" 2>"$out/log"; then
    secs[ferry,$r]=$(elapsed "$t")
    secs[ferry_data,$r]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"]["data"])' "$out/summary.json")
    notes[ferry_steps,$r]=$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
steps = ", ".join("%s %.2f" % kv for kv in s["steps"].items())
print("%s (total %.2f)" % (steps, s["total_seconds"]))
print("  per table: " + ", ".join("%s %.0f MB in %.2f s (%s, %d part(s))" % (
    t["table"].split(".")[-1], t["bytes"] / 1048576, t["seconds"], t["format"], t["parts"]) for t in s["tables"]))
' "$out/summary.json")
  else
    echo "FAILED: ferry db clone round $r exited $?:" >&2
    tail -20 "$out/log" >&2
    secs[ferry,$r]=FAILED
    failures=$((failures + 1))
  fi
  grep -iE '^(warn|error)' "$out/log" | grep -v 'have no primary key' >&2 || true
  [[ ${secs[ferry,$r]} == FAILED ]] || check_and_drop ferry "$r" "t_ferry_$r"
}

run_pgcopydb() {
  local r=$1 tgt t dir=$work/pgcopydb-$1
  tgt=$(fresh_target "t_pgcopydb_$r")
  mkdir -p "$dir"
  chown postgres: "$dir" 2>/dev/null || true
  t=$(now)
  if (cd "$dir" && as_postgres pgcopydb clone --source "$src" --target "$tgt" --dir "$dir/work" \
    --table-jobs "$jobs" --index-jobs "$jobs") >"$dir/log" 2>&1; then
    secs[pgcopydb,$r]=$(elapsed "$t")
  else
    echo "FAILED: pgcopydb clone round $r:" >&2
    tail -20 "$dir/log" >&2
    secs[pgcopydb,$r]=FAILED
    failures=$((failures + 1))
  fi
  [[ ${secs[pgcopydb,$r]} == FAILED ]] || check_and_drop pgcopydb "$r" "t_pgcopydb_$r"
}

run_dump() {
  local r=$1 tgt t t1 dir=$work/dump-$1
  tgt=$(fresh_target "t_dump_$r")
  mkdir -p "$dir"
  t=$(now)
  if pg_dump -Fd -j "$jobs" -f "$dir/dump" -d "$src" 2>"$dir/log"; then
    secs[pg_dump,$r]=$(elapsed "$t")
    t1=$(now)
    if pg_restore -j "$jobs" -d "$tgt" "$dir/dump" 2>>"$dir/log"; then
      secs[pg_restore,$r]=$(elapsed "$t1")
      secs[dump,$r]=$(elapsed "$t")
    fi
  fi
  if [[ -z ${secs[dump,$r]:-} ]]; then
    echo "FAILED: pg_dump/pg_restore round $r:" >&2
    tail -20 "$dir/log" >&2
    secs[dump,$r]=FAILED
    failures=$((failures + 1))
  else
    check_and_drop dump "$r" "t_dump_$r"
  fi
  rm -rf "$dir"
}

run_pipe() {
  local r=$1 tgt t
  tgt=$(fresh_target "t_pipe_$r")
  pg_dump --section=pre-data -d "$src" | psql_ "$tgt" >/dev/null
  psql_ "$tgt" -c "CHECKPOINT"
  t=$(now)
  # Largest tables first, as ferry and pgcopydb order them.
  # shellcheck disable=SC2016 # $1, $SRC and $TGT expand in the inner bash
  if psql_ "$src" -At -c "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
                           ORDER BY pg_table_size(relid) DESC" |
    SRC="$src" TGT="$tgt" xargs -P "$jobs" -I{} bash -c 'set -o pipefail
      psql -X -q -v ON_ERROR_STOP=1 -d "$SRC" -c "COPY $1 TO STDOUT" |
        psql -X -q -v ON_ERROR_STOP=1 -d "$TGT" -c "COPY $1 FROM STDIN"' _ {}; then
    secs[pipe,$r]=$(elapsed "$t")
    check_and_drop pipe "$r" "t_pipe_$r"
  else
    echo "FAILED: COPY pipe round $r" >&2
    secs[pipe,$r]=FAILED
    failures=$((failures + 1))
  fi
}

tools=(ferry pgcopydb dump pipe)
for ((r = 1; r <= rounds; r++)); do
  for ((k = 0; k < ${#tools[@]}; k++)); do
    tool=${tools[$(((k + r - 1) % ${#tools[@]}))]}
    "run_$tool" "$r"
    echo "round $r: $tool $(printf '%s' "${secs[$tool,$r]}" | cut -c1-6) s" >&2
  done
done

median() {  # median of the numeric arguments; FAILED if any failed
  local v
  for v in "$@"; do [[ $v != FAILED ]] || { echo FAILED; return; }; done
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}
col() { local key=$1 r; for ((r = 1; r <= rounds; r++)); do echo "${secs[$key,$r]:-FAILED}"; done; }
fmt() { [[ $1 == FAILED ]] && printf '%9s' FAILED || printf '%9.2f' "$1"; }

echo
echo "wall times in seconds (each tool into a fresh empty database; row counts checked)"
printf '%-6s %9s %9s %9s %9s %9s %9s %9s\n' round ferry pgcopydb "dump+rst" pg_dump pg_rest "pipe" "ferry dat"
for ((r = 1; r <= rounds; r++)); do
  printf '%-6s' "$r"
  for key in ferry pgcopydb dump pg_dump pg_restore pipe ferry_data; do printf ' %s' "$(fmt "${secs[$key,$r]:-FAILED}")"; done
  echo
done
declare -A med
for key in ferry pgcopydb dump pg_dump pg_restore pipe ferry_data; do
  # shellcheck disable=SC2046 # one word per round
  med[$key]=$(median $(col "$key"))
done
if ((rounds > 1)); then
  printf '%-6s' median
  for key in ferry pgcopydb dump pg_dump pg_restore pipe ferry_data; do printf ' %s' "$(fmt "${med[$key]}")"; done
  echo
fi
echo "(dump+rst = pg_dump + pg_restore; pipe = data only, J tables at a time; ferry dat = ferry's data step)"
echo
for ((r = 1; r <= rounds; r++)); do
  [[ -z ${notes[ferry_steps,$r]:-} ]] || echo "ferry steps, round $r: ${notes[ferry_steps,$r]}"
done
echo

ratio() {  # prints a / b, or n/a
  [[ $1 == FAILED || $2 == FAILED ]] && { echo n/a; return; }
  printf '%.2f' "$(echo "$1 / $2" | bc -l)"
}
rate_ratio=n/a
if [[ ${med[ferry_data]} != FAILED && ${med[pipe]} != FAILED ]]; then
  ferry_rate=$(echo "$data_bytes / 1048576 / ${med[ferry_data]}" | bc -l)
  pipe_rate=$(echo "$data_bytes / 1048576 / ${med[pipe]}" | bc -l)
  rate_ratio=$(ratio "$ferry_rate" "$pipe_rate")
  printf 'data rate over %d MB of table data: ferry %.1f MB/s, pipe %.1f MB/s\n' \
    "$(echo "$data_bytes / 1048576" | bc)" "$ferry_rate" "$pipe_rate"
fi
printf '%-36s %6s   %s\n' "ratio" value target
printf '%-36s %6s   %s\n' "ferry / pgcopydb" "$(ratio "${med[ferry]}" "${med[pgcopydb]}")" "<= 0.8"
printf '%-36s %6s   %s\n' "ferry / (pg_dump + pg_restore)" "$(ratio "${med[ferry]}" "${med[dump]}")" "< 1"
printf '%-36s %6s   %s\n' "ferry data rate / pipe data rate" "$rate_ratio" ">= 0.9"
echo "(context: pgcopydb runs VACUUM ANALYZE and ferry ANALYZE on the target, pg_restore neither;"
echo " ferry options: ${FERRY_CLONE_ARGS:-defaults}; the pipe and the other tools use the target's"
echo " default TOAST compression, ferry lz4 unless --toast-compression server)"
echo "load average at end:$(uptime | sed 's/.*load average://')"
((failures == 0)) || { echo "$failures run(s) FAILED (see above)" >&2; exit 1; }
