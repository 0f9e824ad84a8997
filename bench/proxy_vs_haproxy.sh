#!/usr/bin/env bash
# ferry proxy against HAProxy (nbthread 1) and nginx (1 worker), side by side
# in one run: the same two nginx backends, the same routes (two path-prefix
# routes and a weighted 90/10 split kept sticky by the X-User-Id header), the
# same wrk load on keep-alive connections. Rounds alternate between the
# proxies so that a noisy minute hurts all of them alike; medians are printed
# with the ratios, the CPU each proxy spent per request, and how busy the
# load generator's CPU was (when it is saturated, no proxy can go faster),
# and how often per request the backend went to sleep (each sleep is a
# wake-up to pay for on that saturated CPU).
#
# usage: bench/proxy_vs_haproxy.sh [SECONDS_PER_ROUND] [ROUNDS] [CONNECTIONS] [THREADS]
#   THREADS: proxy threads (ferry threads, HAProxy nbthread, nginx workers)
# With PIN=1 (the default) each proxy runs on CPU 1 and wrk and the backends
# on CPU 0; PIN=0 lets the scheduler place everything (use it for THREADS=2).
# With CPU_BUDGET=CORES (for example 0.5; needs root) each proxy may use only
# that much CPU time, so that the proxy, not wrk and the backends, is what
# saturates first (see bench/proxy_lib.sh).
# Under a budget it also prints, per proxy, how often it blocked on its own per
# request, the share of periods it was throttled in and the stall per throttle
# (CPU_PERIOD_MS sets the period, 10 ms unless set).
set -euo pipefail
name=proxy-bench
seconds=${1:-10}
rounds=${2:-3}
connections=${3:-64}
threads=${4:-1}
source "$(dirname "${BASH_SOURCE[0]}")/proxy_lib.sh"
check_cpu_budget

start_backends
write_proxy_configs
for p in ferry haproxy nginx; do start_proxy $p; done
sleep 1
for p in ferry haproxy nginx; do confine $p; done

write_request_mix

# busy and total jiffies of CPU 0 (where wrk and the backends run when pinned)
cpu0() { awk '$1=="cpu0"{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
# times the backend nginx (its worker) went to sleep: it waits in epoll_wait when idle
backend_sleeps() { sleeps_of "$(pgrep -P "$(cat "$work/backends.pid")")"; }
declare -A rps p99 cpu load sleeps own_sleeps throttled stall
run() { # proxy port
  local before=0 after=0 p out b0 t0 b1 t1 s0 s1 q0 q1 w0 w1
  for p in $(pids_of "$1"); do before=$((before + $(cpu_ticks "$p"))); done
  read -r b0 t0 < <(cpu0)
  s0=$(backend_sleeps) q0=$(throttle_stat "$1") w0=$(proxy_sleeps "$1")
  out=$($load_cpu wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$work/mix.lua" "http://127.0.0.1:$2/")
  read -r b1 t1 < <(cpu0)
  s1=$(backend_sleeps) q1=$(throttle_stat "$1") w1=$(proxy_sleeps "$1")
  for p in $(pids_of "$1"); do after=$((after + $(cpu_ticks "$p"))); done
  if grep -q -E "Non-2xx|Socket errors" <<<"$out"; then
    echo "$name: $1 had errors:" >&2
    echo "$out" >&2
  fi
  local r l n c u z
  r=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  l=$(awk '$1=="99%"{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
  n=$(awk '/requests in/{print $1}' <<<"$out")
  c=$(echo "($after - $before) * 10000 / $n" | bc -l)
  u=$(echo "100 * ($b1 - $b0) / ($t1 - $t0)" | bc -l)
  z=$(echo "($s1 - $s0) / $n" | bc -l)
  rps[$1]+="$r " p99[$1]+="$l " cpu[$1]+="$c " load[$1]+="$u " sleeps[$1]+="$z "
  row "$1" "$r" "$l" "$c" "$u" "$z"
  [[ -n $quota_us ]] || return 0
  local t s w
  w=$(echo "($w1 - $w0) / $n" | bc -l)
  read -r t s < <(awk -v a="$q0" -v b="$q1" 'BEGIN { split(a, x); split(b, y); p = y[1] - x[1]; n = y[2] - x[2];
    printf "%f %f\n", p ? 100 * n / p : 0, n ? (y[3] - x[3]) / n / 1000 : 0 }')
  own_sleeps[$1]+="$w " throttled[$1]+="$t " stall[$1]+="$s "
  budget_row "$1" "$w" "$t" "$s"
}
# Under a budget: how often the proxy slept on its own, in how many periods
# it ran out of quota, and how long it stood still each time (on one CPU, a
# stall longer than the period minus the quota means it overran its quota
# and lost part of the next period too).
budget_row() {
  printf '  %-8s proxy sleeps/request %.3f  throttled in %3.0f%% of periods, stalled %5.2f ms each\n' "$@"
}
row() {
  printf '  %-8s %10.0f req/s  p99 %7.2f ms  %6.1f us CPU/request  cpu0 %3.0f%% busy  backend sleeps/request %.3f\n' "$@"
}

echo "$name: $rounds rounds of ${seconds}s, $connections keep-alive connections, $threads proxy thread(s), pinned=${PIN:-1}, CPU budget per proxy: ${CPU_BUDGET:-none}${quota_us:+ (${quota_us} us every $((period_us / 1000)) ms)}"
$load_cpu wrk -t1 -c"$connections" -d2s -s "$work/mix.lua" "http://127.0.0.1:$p_ferry/" >/dev/null  # warm-up
for ((i = 1; i <= rounds; i++)); do
  echo "round $i"
  run haproxy "$p_haproxy"
  run ferry "$p_ferry"
  run nginx "$p_nginx"
done
echo "medians:"
for x in ferry haproxy nginx; do
  row $x "$(median "${rps[$x]}")" "$(median "${p99[$x]}")" "$(median "${cpu[$x]}")" \
    "$(median "${load[$x]}")" "$(median "${sleeps[$x]}")"
  [[ -z $quota_us ]] ||
    budget_row $x "$(median "${own_sleeps[$x]}")" "$(median "${throttled[$x]}")" "$(median "${stall[$x]}")"
done
busiest=$(for x in ferry haproxy nginx; do median "${load[$x]}"; done | sort -g | tail -1)
if [[ ${PIN:-1} == 1 ]] && awk -v b="$busiest" 'BEGIN { exit !(b >= 90) }'; then
  echo "note: CPU 0 (wrk and the backends) was ${busiest%.*} % busy: the load side, not the proxy, set the pace"
  [[ -n ${CPU_BUDGET:-} ]] || echo "      (CPU_BUDGET=0.5 makes each proxy the bottleneck instead)"
fi
f=$(median "${rps[ferry]}") h=$(median "${rps[haproxy]}") n=$(median "${rps[nginx]}")
printf 'ratio req/s ferry/haproxy: %.2f (target >= 1.2)   ferry/nginx: %.2f (target > 1)\n' \
  "$(echo "$f / $h" | bc -l)" "$(echo "$f / $n" | bc -l)"
printf 'ratio CPU per request haproxy/ferry: %.2f   nginx/ferry: %.2f\n' \
  "$(echo "$(median "${cpu[haproxy]}") / $(median "${cpu[ferry]}")" | bc -l)" \
  "$(echo "$(median "${cpu[nginx]}") / $(median "${cpu[ferry]}")" | bc -l)"
printf 'ratio p99 ferry/haproxy: %.2f (target <= 1)   ferry/nginx: %.2f\n' \
  "$(echo "$(median "${p99[ferry]}") / $(median "${p99[haproxy]}")" | bc -l)" \
  "$(echo "$(median "${p99[ferry]}") / $(median "${p99[nginx]}")" | bc -l)"
