#!/usr/bin/env bash
# What the proxy's safety nets cost: the same ferry binary as two proxies
# side by side, one with the routes of bench/proxy_vs_haproxy.sh and nothing
# else, one with the same routes plus a circuit breaker on both pools (modern
# falling back to legacy; thresholds that healthy backends never reach, so
# every request is counted and checked but none is diverted) and a running
# progressive rollout on the users route (its analysis reading the counters
# every second; thresholds it always passes, one long step, so the weights
# stay put). Rounds alternate between the two so that a noisy minute hurts
# both alike; medians of req/s, p99 and the proxy's CPU per request are
# printed with the ratios. Target: at most 3 % fewer requests per second (and
# at most 3 % more CPU per request) with them.
#
# usage: bench/proxy_safety_nets.sh [SECONDS_PER_ROUND] [ROUNDS] [CONNECTIONS]
# With PIN=1 (the default) both proxies run on CPU 1, wrk and the backends on
# CPU 0; the proxies take turns, so they do not compete. With CPU_BUDGET=0.5
# (see proxy_lib.sh) each proxy gets half a core, so that it, not the load
# side, sets the pace and req/s measures the proxy.
set -euo pipefail
name=proxy-safety-nets
seconds=${1:-10}
rounds=${2:-5}
connections=${3:-64}
threads=1
source "$(dirname "${BASH_SOURCE[0]}")/proxy_lib.sh"
check_cpu_budget

p_nets=$(port)
nets_pid=""
stop_nets_proxy() { [[ -z $nets_pid ]] || kill "$nets_pid" 2>/dev/null || true; }
# Before the shared cleanup, which removes the proxies' cgroups once they are empty.
on_exit=(stop_nets_proxy "${on_exit[@]}")

start_backends
write_proxy_configs
# The same config with a breaker on each pool and a rollout.
sed -e "s/^listen: .*/listen: 127.0.0.1:$p_nets/" \
  -e 's/max_idle: 1024 }/max_idle: 1024,\n    breaker: { window: 10s, min_requests: 20, failure_rate: 50%, slow: { over: 1s, rate: 80% }, open_for: 15s, half_open_requests: 5, fallback: FALLBACK } }/' \
  "$work/ferry.yaml" >"$work/nets.yaml"
# modern falls back to legacy; legacy, with nowhere to go, would answer 503.
awk '/^  [a-z]+:/{pool=$1} pool=="legacy:"{sub(/, fallback: FALLBACK/, "")} {sub(/FALLBACK/, "legacy"); print}' \
  "$work/nets.yaml" >"$work/b.yaml"
mv "$work/b.yaml" "$work/nets.yaml"
# The users route's rollout, and an admin listener to start it.
p_admin=$(port)
awk -v admin="$p_admin" '
  /^threads:/ { print; print "admin: { listen: 127.0.0.1:" admin " }"; next }
  /sticky: \{ header: X-User-Id \}/ {
    print
    print "    rollout:"
    print "      to: modern"
    print "      steps: [ { weight: 20, pause: 24h }, { weight: 100 } ]"
    print "      analysis: { interval: 1s, min_requests: 100, max_error_rate_increase: 100, max_p99_ratio: 1000, inconclusive_for: 24h }"
    next
  }
  { print }' "$work/nets.yaml" >"$work/b.yaml"
mv "$work/b.yaml" "$work/nets.yaml"
"$ferry" proxy --check --config "$work/nets.yaml" >/dev/null
start_proxy ferry
$proxy_cpu "$ferry" proxy --config "$work/nets.yaml" --no-watch 2>"$work/nets.log" &
nets_pid=$!
named_pids[nets]=$nets_pid
sleep 1
confine ferry
confine nets
curl -sf --noproxy '*' -X POST "http://127.0.0.1:$p_admin/admin/rollouts/users/start" >/dev/null ||
  { echo "$name: the rollout did not start:" >&2; cat "$work/nets.log" >&2; exit 1; }

write_request_mix


echo "$name: $rounds rounds of ${seconds}s, $connections keep-alive connections, pinned=${PIN:-1}, budget=${CPU_BUDGET:-none}"
for port in "$p_ferry" "$p_nets"; do  # warm-up
  $load_cpu wrk -t1 -c"$connections" -d2s -s "$work/mix.lua" "http://127.0.0.1:$port/" >/dev/null
done
for ((i = 1; i <= rounds; i++)); do
  echo "round $i"
  if ((i % 2)); then
    measure_round plain "$ferry_pid" "$p_ferry" "$work/mix.lua"
    measure_round nets "$nets_pid" "$p_nets" "$work/mix.lua"
  else
    measure_round nets "$nets_pid" "$p_nets" "$work/mix.lua"
    measure_round plain "$ferry_pid" "$p_ferry" "$work/mix.lua"
  fi
done
echo "medians:"
for x in plain nets; do
  printf '  %-10s %10.0f req/s  p99 %7.2f ms  %6.1f us CPU/request\n' "$x" \
    "$(median "${rps[$x]}")" "$(median "${p99[$x]}")" "$(median "${cpu[$x]}")"
done
# Counted and checked on every request, and never tripped: nothing was
# diverted or rolled back, and the analysis gave its verdicts all along.
if grep -q "breaker_opened" "$work/nets.log"; then echo "$name: a breaker opened during the run" >&2; fi
if grep -q "rollout_aborted" "$work/nets.log"; then echo "$name: the rollout was aborted" >&2; fi
echo "rollout verdicts during the run: $(grep -c 'event=rollout_verdict' "$work/nets.log" || true)"
printf 'ratio req/s nets/plain: %.3f (target >= 0.97)   CPU per request nets/plain: %.3f (target <= 1.03)\n' \
  "$(echo "$(median "${rps[nets]}") / $(median "${rps[plain]}")" | bc -l)" \
  "$(echo "$(median "${cpu[nets]}") / $(median "${cpu[plain]}")" | bc -l)"
