#!/usr/bin/env bash
# ferry proxy against HAProxy (nbthread 1) and nginx (1 worker), side by side
# in one run: the same two nginx backends, the same routes (two path-prefix
# routes and a weighted 90/10 split kept sticky by the X-User-Id header), the
# same wrk load on keep-alive connections. Rounds alternate between the
# proxies so that a noisy minute hurts all of them alike; medians are printed
# with the ratios, and the CPU each proxy spent per request.
#
# usage: bench/proxy_vs_haproxy.sh [SECONDS_PER_ROUND] [ROUNDS] [CONNECTIONS] [THREADS]
#   THREADS: proxy threads (ferry threads, HAProxy nbthread, nginx workers)
# With PIN=1 (the default) each proxy runs on CPU 1 and wrk and the backends
# on CPU 0, so a proxy's cost per request decides its throughput.
set -euo pipefail
name=proxy-bench
seconds=${1:-10}
rounds=${2:-3}
connections=${3:-64}
threads=${4:-1}
pin=${PIN:-1}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
ferry=${FERRY_BIN:-$repo/build/ferry}
[[ -x $ferry ]] || { echo "$name: $ferry is not built (make build)" >&2; exit 2; }
for tool in haproxy nginx wrk taskset; do
  command -v $tool >/dev/null || { echo "$name: $tool is missing (scripts/setup installs it)" >&2; exit 2; }
done
work=$(mktemp -d "/tmp/ferry-$name.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f $work/haproxy.pid ]] && kill "$(cat "$work/haproxy.pid")" 2>/dev/null || true
  [[ -f $work/backends.pid ]] && kill -QUIT "$(cat "$work/backends.pid")" 2>/dev/null || true
  [[ -f $work/nginx-proxy.pid ]] && kill -QUIT "$(cat "$work/nginx-proxy.pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true

proxy_cpu="" load_cpu=""
if [[ $pin == 1 ]]; then proxy_cpu="taskset -c 1"; load_cpu="taskset -c 0"; fi
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
legacy=$(port) modern=$(port) p_ferry=$(port) p_haproxy=$(port) p_nginx=$(port)

temps() {
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $work/$1-$t;"; done
}
# The backends: one nginx answering a small body on two ports.
cat >"$work/backends.conf" <<EOF
worker_processes 1; daemon on; pid $work/backends.pid; error_log $work/backends.err;
events { worker_connections 20000; }
http { access_log off; keepalive_requests 10000000;
$(temps backends)
  server { listen 127.0.0.1:$legacy; location / { return 200 "legacy ok\n"; } }
  server { listen 127.0.0.1:$modern; location / { return 200 "modern ok\n"; } } }
EOF
$load_cpu nginx -p "$work" -c "$work/backends.conf"

cat >"$work/ferry.yaml" <<EOF
listen: 127.0.0.1:$p_ferry
threads: $threads
pools:
  legacy: { endpoints: [127.0.0.1:$legacy], max_idle: 1024 }
  modern: { endpoints: [127.0.0.1:$modern], max_idle: 1024 }
routes:
  - { name: search, match: { path_prefix: /api/search }, to: modern }
  - name: users
    match: { path_prefix: /api/users }
    split: [ { pool: legacy, weight: 90 }, { pool: modern, weight: 10 } ]
    sticky: { header: X-User-Id }
  - { name: rest, match: { path_prefix: / }, to: legacy }
EOF
cat >"$work/haproxy.cfg" <<EOF
global
  nbthread $threads
  maxconn 4000
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  http-reuse always
frontend f
  bind 127.0.0.1:$p_haproxy
  use_backend modern if { path_beg /api/search }
  use_backend users if { path_beg /api/users }
  default_backend legacy
backend legacy
  server l 127.0.0.1:$legacy
backend modern
  server m 127.0.0.1:$modern
backend users
  balance hdr(X-User-Id)
  hash-type consistent
  server l 127.0.0.1:$legacy weight 90
  server m 127.0.0.1:$modern weight 10
EOF
cat >"$work/nginx-proxy.conf" <<EOF
worker_processes $threads; daemon on; pid $work/nginx-proxy.pid; error_log $work/nginx-proxy.err;
events { worker_connections 20000; }
http { access_log off; keepalive_requests 10000000;
$(temps proxy)
  upstream legacy { server 127.0.0.1:$legacy; keepalive 1024; }
  upstream modern { server 127.0.0.1:$modern; keepalive 1024; }
  split_clients "\${http_x_user_id}" \$users { 10% modern; * legacy; }
  server { listen 127.0.0.1:$p_nginx;
    proxy_http_version 1.1; proxy_set_header Connection "";
    location /api/search { proxy_pass http://modern; }
    location /api/users { proxy_pass http://\$users; }
    location / { proxy_pass http://legacy; } } }
EOF

$proxy_cpu "$ferry" proxy --config "$work/ferry.yaml" --no-watch 2>"$work/ferry.log" &
pids+=($!)
ferry_pid=$!
$proxy_cpu haproxy -f "$work/haproxy.cfg" -D -p "$work/haproxy.pid" 2>"$work/haproxy.log" ||
  { echo "$name: haproxy did not start:" >&2; cat "$work/haproxy.log" >&2; exit 1; }
$proxy_cpu nginx -p "$work" -c "$work/nginx-proxy.conf"
sleep 1

# The request mix: a third each of search, sticky users (1,000 distinct ids) and the rest.
cat >"$work/mix.lua" <<'EOF'
local n = 0
request = function()
  n = n + 1
  local kind = n % 3
  if kind == 0 then return wrk.format("GET", "/api/search?q=" .. n) end
  if kind == 1 then return wrk.format("GET", "/api/users/" .. n, {["X-User-Id"] = "u" .. (n % 1000)}) end
  return wrk.format("GET", "/catalog/" .. n)
end
EOF

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pids_of() {
  case $1 in
    ferry) echo "$ferry_pid" ;;
    haproxy) cat "$work/haproxy.pid" ;;
    nginx) pgrep -P "$(cat "$work/nginx-proxy.pid")" | tr '\n' ' ' ;;
  esac
}
declare -A rps p99 cpu
run() { # proxy port
  local before=0 after=0 p out
  for p in $(pids_of "$1"); do before=$((before + $(cpu_ticks "$p"))); done
  out=$($load_cpu wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$work/mix.lua" "http://127.0.0.1:$2/")
  for p in $(pids_of "$1"); do after=$((after + $(cpu_ticks "$p"))); done
  if grep -q -E "Non-2xx|Socket errors" <<<"$out"; then
    echo "$name: $1 had errors:" >&2
    echo "$out" >&2
  fi
  local r l n
  r=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  l=$(awk '$1=="99%"{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
  n=$(awk '/requests in/{print $1}' <<<"$out")
  rps[$1]+="$r " p99[$1]+="$l " cpu[$1]+="$(echo "($after - $before) * 10000 / $n" | bc -l) "
  printf '  %-8s %10.0f req/s  p99 %7.2f ms  %6.1f us CPU/request\n' "$1" "$r" "$l" \
    "$(echo "($after - $before) * 10000 / $n" | bc -l)"
}
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "$name: $rounds rounds of ${seconds}s, $connections keep-alive connections, $threads proxy thread(s), pinned=$pin"
$load_cpu wrk -t1 -c"$connections" -d2s -s "$work/mix.lua" "http://127.0.0.1:$p_ferry/" >/dev/null  # warm-up
for ((i = 1; i <= rounds; i++)); do
  echo "round $i"
  run haproxy "$p_haproxy"
  run ferry "$p_ferry"
  run nginx "$p_nginx"
done
f=$(median "${rps[ferry]}") h=$(median "${rps[haproxy]}") n=$(median "${rps[nginx]}")
echo "medians:"
for x in ferry haproxy nginx; do
  printf '  %-8s %10.0f req/s  p99 %7.2f ms  %6.1f us CPU/request\n' $x "$(median "${rps[$x]}")" \
    "$(median "${p99[$x]}")" "$(median "${cpu[$x]}")"
done
printf 'ratio ferry/haproxy: %.2f (target >= 1.2)   ferry/nginx: %.2f (target > 1)\n' \
  "$(echo "$f / $h" | bc -l)" "$(echo "$f / $n" | bc -l)"
