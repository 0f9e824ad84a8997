#!/usr/bin/env bash
# What the parallel run costs: the same ferry binary as three proxies side by
# side on one route (sticky by X-User-Id, to legacy): one without a mirror,
# one mirroring 10 % of the users to modern and one mirroring all of them,
# both comparing the content type and the JSON bodies (which differ on one
# field, so every compared request is a difference that is counted and
# sampled: the expensive case). Rounds rotate the order so that a noisy
# minute hurts all alike; medians of req/s, p99 and the proxy's CPU per
# client request are printed with the ratios. Target: at most 10 % fewer
# requests per second at 10 %.
#
# usage: bench/proxy_mirror.sh [SECONDS_PER_ROUND] [ROUNDS] [CONNECTIONS]
# With PIN=1 (the default) the proxies run on CPU 1, wrk and the backends on
# CPU 0; the proxies take turns, so they do not compete. The mirrored
# requests load the backends too, so on 2 cores req/s may measure the load
# side: CPU per request is the proxy's own cost, and CPU_BUDGET=0.5 (see
# proxy_lib.sh) makes req/s measure the proxy.
set -euo pipefail
name=proxy-mirror
seconds=${1:-10}
rounds=${2:-5}
connections=${3:-64}
threads=1
source "$(dirname "${BASH_SOURCE[0]}")/proxy_lib.sh"
check_cpu_budget

declare -A proxy_port admin_port
kinds=(plain m10 m100)
stop_mirror_proxies() {
  local k
  for k in "${kinds[@]}"; do [[ -z ${named_pids[$k]:-} ]] || kill "${named_pids[$k]}" 2>/dev/null || true; done
}
# Before the shared cleanup, which removes the proxies' cgroups once they are empty.
on_exit=(stop_mirror_proxies "${on_exit[@]}")

# The same document from both sides but for one price.
doc() { echo "'{\"user\": \"u1\", \"items\": [{\"sku\": \"apple\", \"price\": 10}, {\"sku\": \"pear\", \"price\": $1}], \"total\": $((10 + $1))}'"; }
start_backends "$(doc 12)" "$(doc 13)" application/json

for k in "${kinds[@]}"; do
  proxy_port[$k]=$(port)
  admin_port[$k]=$(port)
  mirror=""
  case $k in
    m10) mirror="    mirror: { pool: modern, percent: 10, compare: { headers: [content-type] } }" ;;
    m100) mirror="    mirror: { pool: modern, percent: 100, compare: { headers: [content-type] } }" ;;
  esac
  cat >"$work/$k.yaml" <<EOF
listen: 127.0.0.1:${proxy_port[$k]}
threads: $threads
admin: { listen: 127.0.0.1:${admin_port[$k]} }
timeouts: { client_idle: 600s }
pools:
  legacy: { endpoints: [127.0.0.1:$legacy], max_idle: 1024 }
  modern: { endpoints: [127.0.0.1:$modern], max_idle: 1024 }
routes:
  - name: users
    to: legacy
    sticky: { header: X-User-Id }
$mirror
EOF
  "$ferry" proxy --check --config "$work/$k.yaml" >/dev/null
  $proxy_cpu "$ferry" proxy --config "$work/$k.yaml" --no-watch 2>"$work/$k.log" &
  named_pids[$k]=$!
done
for k in "${kinds[@]}"; do
  for _ in $(seq 50); do
    curl -sf --noproxy '*' "http://127.0.0.1:${admin_port[$k]}/healthz" >/dev/null && break
    sleep 0.1
  done
  confine "$k"
done

cat >"$work/users.lua" <<'EOF'
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/api/users/" .. n, {["X-User-Id"] = "u" .. (n % 1000)})
end
EOF


echo "$name: $rounds rounds of ${seconds}s, $connections keep-alive connections, pinned=${PIN:-1}, budget=${CPU_BUDGET:-none}"
for k in "${kinds[@]}"; do # warm-up
  $load_cpu wrk -t1 -c"$connections" -d2s -s "$work/users.lua" "http://127.0.0.1:${proxy_port[$k]}/" >/dev/null
done
for ((i = 0; i < rounds; i++)); do
  echo "round $((i + 1))"
  for ((j = 0; j < 3; j++)); do
    k=${kinds[$(((i + j) % 3))]}
    measure_round "$k" "${named_pids[$k]}" "${proxy_port[$k]}" "$work/users.lua"
  done
done
echo "medians:"
for k in "${kinds[@]}"; do
  printf '  %-6s %10.0f req/s  p99 %7.2f ms  %6.1f us CPU/request\n' "$k" \
    "$(median "${rps[$k]}")" "$(median "${p99[$k]}")" "$(median "${cpu[$k]}")"
done
# The mirrors did their work: requests compared, every one a difference on
# the one field, none lost.
for k in m10 m100; do
  curl -sf --noproxy '*' "http://127.0.0.1:${admin_port[$k]}/admin/diff" >"$work/$k.diff.json"
  python3 - "$k" "$work/$k.diff.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[2]))["routes"][0]
fields = ", ".join(f"{f['path']} x{f['count']}" for f in r["fields"])
print(f"  {sys.argv[1]:6} compared {r['compared']}, different {r['different']}, "
      f"skipped_large {r['skipped_large']}, mirror_errors {r['mirror_errors']}; fields: {fields}")
EOF
done
for k in m10 m100; do
  printf 'ratio %s/plain: req/s %.3f%s  CPU per request %.3f  p99 %.3f\n' "$k" \
    "$(echo "$(median "${rps[$k]}") / $(median "${rps[plain]}")" | bc -l)" \
    "$([[ $k == m10 ]] && echo ' (target >= 0.90)')" \
    "$(echo "$(median "${cpu[$k]}") / $(median "${cpu[plain]}")" | bc -l)" \
    "$(echo "$(median "${p99[$k]}") / $(median "${p99[plain]}")" | bc -l)"
done
