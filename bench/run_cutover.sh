#!/usr/bin/env bash
# Benchmark: what the users of a service see of its database cutover, done
# the way runbooks glue it today against `ferry run`, and what the engine
# itself costs per step.
#
# Each way on fresh servers: the demo's shop service (examples/demo/) in
# two versions, the modern one on the old database through a file its
# cutover hook rewrites, `ferry proxy` sending every user to modern, USERS
# sticky users (examples/demo/load.py) counting every failed request.
#
#   glue       ferry db clone, ferry db follow, then `ferry db cutover
#              --reverse --then <point modern at the new database>`: what a
#              runbook does; requests keep flowing while the old database is
#              read-only.
#   ferry run  the same moves as one plan (clone, follow, cutover with
#              hold_requests: 5s): the proxy holds the route's requests
#              while the database switches, then releases them.
#
# Printed for each: requests, failed requests, the users' p99 and max
# latency, the write-unavailable time and (ferry run) the held requests'
# waits. Goals (issue 21): 0 failed requests with ferry run; the held
# requests' p99 below the write-unavailable time + 200 ms.
#
# Engine overhead: a plan of STEPS `command: "true"` steps against STEPS
# runs of `/bin/sh -c true`: the difference per step is what the engine adds
# (journal writes before and after, events, the command's child); goal
# under 100 ms.
#
# usage: bench/run_cutover.sh [USERS=30] [STEPS=50]
set -euo pipefail
name=run-cutover
source "$(dirname "$0")/lib.sh"
users=${1:-30}
steps=${2:-50}
py=/usr/bin/python3
export DEMO_DIR=$work

apps=()
stop_apps() { for pid in "${apps[@]}"; do kill "$pid" 2>/dev/null || true; done; pkill -f "db follow .*--dir $work" || true; }
on_exit+=(stop_apps)
echo "machine: $(nproc) cores; load average at start:$(uptime | sed 's/.*load average://'); $users users"

# One way of cutting over ($1: glue or run); prints its line.
scenario() {
  local way=$1 dir=$work/$1
  mkdir -p "$dir"
  chmod 755 "$dir"
  local old new
  old=$("$repo/scripts/pg-throwaway" start "$dir/src" 2>/dev/null)
  new=$("$repo/scripts/pg-throwaway" start "$dir/tgt" 2>/dev/null)
  psql_ "$old" -c "CREATE DATABASE shop"
  psql_ "$new" -c "CREATE DATABASE shop"
  local src=${old%/postgres}/shop tgt=${new%/postgres}/shop
  echo "$src" >"$dir/source.uri"
  echo "$tgt" >"$dir/target.uri"
  cp "$dir/source.uri" "$dir/modern-db.uri"
  SHOP_DB=$src $py "$repo/examples/demo/shop_app.py" --seed 5000 >/dev/null
  SHOP_DB_FILE=$dir/modern-db.uri $py "$repo/examples/demo/shop_app.py" --port 28582 \
    --version modern 2>"$dir/modern.log" &
  apps+=($!)
  local app_pid=$!
  cat >"$dir/proxy.yaml" <<YAML
listen: 127.0.0.1:28580
admin: { listen: 127.0.0.1:29580 }
pools:
  modern: { endpoints: [127.0.0.1:28582], health: { path: /health, interval: 1s } }
routes:
  - { name: shop, match: { path_prefix: /api/ }, split: [ { pool: modern, weight: 100 } ], sticky: { header: X-User-Id } }
YAML
  "$ferry" proxy --config "$dir/proxy.yaml" 2>"$dir/proxy.log" &
  apps+=($!)
  local proxy_pid=$!
  for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:28582/health && curl -fs -o /dev/null http://127.0.0.1:29580/healthz && break; sleep 0.1; done
  $py "$repo/examples/demo/load.py" --url http://127.0.0.1:28580 --users "$users" --duration 600 \
    --summary "$dir/load.json" --random-seed 5 >"$dir/load.log" 2>&1 &
  local load_pid=$!
  apps+=($load_pid)
  sleep 2
  local unavailable held=""
  if [[ $way == glue ]]; then
    FERRY_SOURCE=$src FERRY_TARGET=$tgt "$ferry" db clone --dir "$dir/db" >/dev/null 2>"$dir/clone.log"
    FERRY_SOURCE=$src FERRY_TARGET=$tgt "$ferry" db follow --dir "$dir/db" >/dev/null 2>"$dir/follow.log" &
    sleep 3
    FERRY_SOURCE=$src FERRY_TARGET=$tgt "$ferry" db cutover --dir "$dir/db" --reverse --format json \
      --then "cp $dir/target.uri $dir/modern-db.uri" >"$dir/cutover.json" 2>"$dir/cutover.log"
    unavailable=$(awk -F': ' '/"write_unavailable_seconds"/ {gsub(",", "", $2); printf "%.2f", $2}' "$dir/cutover.json")
  else
    cat >"$dir/plan.yaml" <<YAML
name: bench
state_dir: ./state
databases:
  shop-db: { source: "\${SOURCE_URI}", target: "\${TARGET_URI}", route: shop }
proxy: { admin: 127.0.0.1:29580 }
steps:
  - clone: shop-db
  - follow: shop-db
  - cutover: { database: shop-db, to: modern, hold_requests: 5s, then: cp $dir/target.uri $dir/modern-db.uri }
YAML
    SOURCE_URI=$src TARGET_URI=$tgt "$ferry" run "$dir/plan.yaml" >"$dir/run.out" 2>"$dir/run.log"
    "$ferry" run report "$dir/plan.yaml" -f json >"$dir/report.json"
    unavailable=$($py -c "import json,sys; print('%.2f' % json.load(open(sys.argv[1]))['summary']['write_unavailable_seconds'][0])" "$dir/report.json")
    held=$($py -c "import json,sys; h=json.load(open(sys.argv[1]))['summary']['held']; print('held %d, waits p50 %d / p99 %d / max %d ms, %d timed out' % (h['held'], h['p50_ms'], h['p99_ms'], h['max_ms'], h['timed_out']))" "$dir/report.json")
  fi
  sleep 2
  kill -INT "$load_pid"
  wait "$load_pid" || true
  $py - "$dir/load.json" "$way" "$unavailable" "$held" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:>9}: {s['requests']} requests, {s['failed']} failed; users' p99 {s['p99_ms']:.0f} ms, "
      f"max {s['max_ms']:.0f} ms; write-unavailable {sys.argv[3]} s" + (f"; {sys.argv[4]}" if sys.argv[4] else ""))
for f in s.get("failures", [])[:3]:
    print(f"           failed at {f['time']}: {f['method']} {f['path']} {f['status']} {f['detail'][:120]}")
PY
  kill "$app_pid" "$proxy_pid" 2>/dev/null || true
  pkill -f "db follow .*--dir $dir" 2>/dev/null || true
  "$repo/scripts/pg-throwaway" stop "$dir/src" >/dev/null 2>&1 || true
  "$repo/scripts/pg-throwaway" stop "$dir/tgt" >/dev/null 2>&1 || true
}

[[ ${ONLY:-} == run ]] || scenario glue
scenario run

# The engine's own cost per step.
{
  echo "name: overhead"
  echo "state_dir: ./state"
  echo "databases:"
  echo "  unused: { source: \"postgres://nobody@127.0.0.1:1/none\", target: \"postgres://nobody@127.0.0.1:1/none\" }"
  echo "steps:"
  for _ in $(seq "$steps"); do echo "  - command: \"true\""; done
} >"$work/overhead.yaml"
start=$(now)
for _ in $(seq "$steps"); do /bin/sh -c true; done
shell=$(elapsed "$start")
start=$(now)
"$ferry" run "$work/overhead.yaml" >/dev/null 2>&1
engine=$(elapsed "$start")
printf "engine: %d command steps in %.2f s, /bin/sh -c true x %d in %.2f s: %.1f ms per step besides the step's own work\n" \
  "$steps" "$engine" "$steps" "$shell" "$(echo "($engine - $shell) * 1000 / $steps" | bc -l)"
