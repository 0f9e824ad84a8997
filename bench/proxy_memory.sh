#!/usr/bin/env bash
# Memory per idle keep-alive client connection: ferry proxy, HAProxy
# (nbthread 1) and nginx (1 worker), one after the other in one run, behind
# the same routes and backends. Each proxy gets N client connections that
# have each made one request and now sit idle (bench/idle_clients.py); the
# growth of the proxy's resident memory divided by N is the figure. Kernel
# socket buffers are the same for every proxy and are not counted.
#
# usage: bench/proxy_memory.sh [CONNECTIONS]   (default 10000)
set -euo pipefail
name=proxy-memory
connections=${1:-10000}
threads=1
PIN=0
source "$(dirname "${BASH_SOURCE[0]}")/proxy_lib.sh"

start_backends
write_proxy_configs
declare -A per
measure() { # proxy port
  start_proxy "$1"
  sleep 1
  # Warm up: the first requests allocate what every later one reuses.
  wrk -t1 -c20 -d1s "http://127.0.0.1:$2/" >/dev/null
  sleep 0.5
  local before after fifo=$work/hold-$1
  before=$(rss_kib "$1")
  mkfifo "$fifo"
  python3 "$repo/bench/idle_clients.py" "$2" "$connections" <"$fifo" >"$work/ready-$1" &
  local holder=$!
  exec 9>"$fifo"
  local waited=0
  until grep -q '^ready' "$work/ready-$1" 2>/dev/null; do
    if ! kill -0 "$holder" 2>/dev/null || ((waited > 1200)); then
      echo "$name: $1: the idle connections did not all get an answer" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  sleep 1
  after=$(rss_kib "$1")
  exec 9>&-
  wait "$holder"
  per[$1]=$(echo "($after - $before) * 1024 / $connections" | bc)
  printf '  %-8s RSS %7d KiB idle, %7d KiB with %d idle connections: %6d bytes per connection\n' \
    "$1" "$before" "$after" "$connections" "${per[$1]}"
  stop_proxy "$1"
}

echo "$name: $connections idle keep-alive client connections, one proxy thread"
measure ferry "$p_ferry"
measure haproxy "$p_haproxy"
measure nginx "$p_nginx"
printf 'ratio bytes per idle connection ferry/haproxy: %.2f (target < 1)   ferry/nginx: %.2f\n' \
  "$(echo "${per[ferry]} / ${per[haproxy]}" | bc -l)" "$(echo "${per[ferry]} / ${per[nginx]}" | bc -l)"
