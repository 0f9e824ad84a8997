# Shared by the proxy benchmarks (source it after setting `name` and
# `threads`): common.sh, two nginx backends, and ferry, HAProxy and nginx set
# up as proxies with the same routes (two path-prefix routes and a weighted
# 90/10 split kept sticky by X-User-Id), all stopped at exit.
#
# Sets: repo, work, ferry, p_ferry, p_haproxy, p_nginx, proxy_cpu, load_cpu.
# Defines: port, start_backends, start_proxy NAME, stop_proxy NAME, pids_of NAME,
# rss_kib NAME, confine NAME, throttle_stat NAME, sleeps_of PID..., proxy_sleeps NAME,
# write_request_mix, cpu_ticks PID, median "N N ...", measure_round LABEL PID PORT SCRIPT.
for tool in haproxy nginx wrk taskset python3; do
  command -v $tool >/dev/null || { echo "$name: $tool is missing (scripts/setup installs it)" >&2; exit 2; }
done
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ferry_pid=""
declare -A named_pids=()  # further proxies a benchmark starts itself, by name
cpu_root=""
stop_proxies() {
  [[ -n $ferry_pid ]] && kill "$ferry_pid" 2>/dev/null || true
  [[ -f $work/haproxy.pid ]] && kill "$(cat "$work/haproxy.pid")" 2>/dev/null || true
  [[ -f $work/backends.pid ]] && kill -QUIT "$(cat "$work/backends.pid")" 2>/dev/null || true
  [[ -f $work/nginx-proxy.pid ]] && kill -QUIT "$(cat "$work/nginx-proxy.pid")" 2>/dev/null || true
  sleep 0.3
  [[ -z $cpu_root ]] || remove_cpu_cgroups
}
on_exit+=(stop_proxies)
# Each of the 10,000 idle connections is a descriptor in the proxy and in the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# With PIN=1 (the default) each proxy runs on CPU 1 and wrk and the backends
# on CPU 0, so a proxy's own cost per request shows.
proxy_cpu="" load_cpu=""
if [[ ${PIN:-1} == 1 ]]; then proxy_cpu="taskset -c 1" load_cpu="taskset -c 0"; fi
# With CPU_BUDGET=CORES (for example 0.5) each proxy may use only that much
# CPU time, enforced by a CPU cgroup of its own with a period of CPU_PERIOD_MS
# (10 ms unless set; the kernel's default is 100 ms). On 2 cores
# the CPU that wrk and the backends share saturates before a proxy with a
# whole core does, and then req/s measures the load side; with a budget the
# proxy is what runs out of CPU first, and req/s measures the proxy. Needs root
# and the cgroup "cpu" controller (v2, or the v1 cpu hierarchy). The budget is
# for the whole proxy, whatever its number of threads.
quota_us="" period_us=""
check_cpu_budget() {
  [[ -n ${CPU_BUDGET:-} ]] || return 0
  period_us=$(awk -v p="${CPU_PERIOD_MS:-10}" 'BEGIN { if (p ~ /^[0-9]+$/ && p >= 10 && p <= 1000) printf "%d", p * 1000 }')
  [[ -n $period_us ]] || { echo "$name: CPU_PERIOD_MS=$CPU_PERIOD_MS is not a whole number of milliseconds from 10 to 1000" >&2; exit 2; }
  # 0.1 core at the shortest period is the kernel's smallest quota (1 ms).
  quota_us=$(awk -v c="$CPU_BUDGET" -v p="$period_us" 'BEGIN { if (c + 0 >= 0.1 && c + 0 <= 64) printf "%d", c * p }')
  [[ -n $quota_us ]] || { echo "$name: CPU_BUDGET=$CPU_BUDGET is not a number of cores from 0.1 to 64, such as 0.5" >&2; exit 2; }
  [[ $EUID == 0 ]] || { echo "$name: CPU_BUDGET needs root: sudo env CPU_BUDGET=$CPU_BUDGET $0 ..." >&2; exit 2; }
}

# The parent of the proxies' cgroups: /sys/fs/cgroup[/cpu]/ferry-bench-PID.
make_cpu_root() {
  local base
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    grep -qw cpu /sys/fs/cgroup/cgroup.controllers ||
      { echo "$name: CPU_BUDGET: cgroup v2 has no cpu controller here" >&2; return 1; }
    grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu >/sys/fs/cgroup/cgroup.subtree_control ||
      { echo "$name: CPU_BUDGET: cannot enable the cpu controller in /sys/fs/cgroup (in a container, processes in its root cgroup prevent it)" >&2; return 1; }
    base=/sys/fs/cgroup
  elif [[ -d /sys/fs/cgroup/cpu ]]; then
    base=/sys/fs/cgroup/cpu
  else
    echo "$name: CPU_BUDGET: no cgroup cpu controller under /sys/fs/cgroup" >&2
    return 1
  fi
  mkdir "$base/ferry-bench-$$" || return 1
  cpu_root=$base/ferry-bench-$$
  # v2 only: the proxies' cgroups below get the cpu controller from here.
  [[ ! -f $cpu_root/cgroup.subtree_control ]] || echo +cpu >"$cpu_root/cgroup.subtree_control"
}

# Moves a proxy's processes (all their threads) into a cgroup of their own
# with the budget, so that no proxy is charged for another's work.
confine() {
  [[ -n $quota_us ]] || return 0
  [[ -n $cpu_root ]] || make_cpu_root || exit 2
  local dir=$cpu_root/$1 p
  mkdir "$dir" || exit 2
  if [[ -f $dir/cpu.max ]]; then
    echo "$quota_us $period_us" >"$dir/cpu.max" || exit 2
  else
    { echo "$period_us" >"$dir/cpu.cfs_period_us" && echo "$quota_us" >"$dir/cpu.cfs_quota_us"; } || exit 2
  fi
  for p in $(pids_of "$1"); do echo "$p" >"$dir/cgroup.procs" || exit 2; done
}

# "periods throttled throttled_us" of a proxy's cgroup so far (0 0 0 without
# a budget). A throttled period is one in which the proxy used up its quota
# and stood still until the next period began. The kernel adds up throttled
# time per CPU, so for a proxy running on several CPUs (PIN=0, 2 threads) the
# time per throttled period can exceed the period.
throttle_stat() {
  local f=$cpu_root/$1/cpu.stat
  [[ -n $quota_us && -f $f ]] || { echo "0 0 0"; return; }
  # v2 counts microseconds (throttled_usec), v1 nanoseconds (throttled_time).
  awk '$1=="nr_periods"{p=$2} $1=="nr_throttled"{t=$2} $1=="throttled_usec"{u=$2} $1=="throttled_time"{u=$2/1000}
       END {printf "%.0f %.0f %.0f\n", p, t, u}' "$f"
}

# Times the threads of processes PID... blocked of their own accord (mostly
# waiting in epoll_wait with nothing to do), summed.
sleeps_of() {
  local total=0 p
  for p in "$@"; do
    [[ -d /proc/$p ]] || { echo "$name: process $p is gone" >&2; exit 1; }
    total=$((total + $(cat /proc/"$p"/task/*/status | awk '/^voluntary_ctxt_switches/{s+=$2} END {print s+0}')))
  done
  echo "$total"
}
proxy_sleeps() {
  # shellcheck disable=SC2046 # one word per pid
  sleeps_of $(pids_of "$1")
}

# A cgroup can be removed once its processes are gone; proxies that shut
# down gracefully may take a moment.
remove_cpu_cgroups() {
  local d
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    for d in "$cpu_root"/*/; do [[ ! -d $d ]] || rmdir "$d" 2>/dev/null || true; done
    rmdir "$cpu_root" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "$name: could not remove the cgroup $cpu_root: a process is still in it" >&2
}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
legacy=$(port) modern=$(port) p_ferry=$(port) p_haproxy=$(port) p_nginx=$(port)

temps() {
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $work/$1-$t;"; done
}

# One nginx answering a small body on two ports: "legacy ok" and "modern
# ok", or the two bodies given (as nginx strings, quotes included) with the
# content type given.
start_backends() { # [LEGACY_BODY MODERN_BODY CONTENT_TYPE]
  local legacy_body=${1:-'"legacy ok\n"'} modern_body=${2:-'"modern ok\n"'} type=${3:-text/plain}
  cat >"$work/backends.conf" <<EOF
worker_processes 1; daemon on; pid $work/backends.pid; error_log $work/backends.err;
events { worker_connections 20000; }
http { access_log off; keepalive_requests 10000000; default_type $type;
$(temps backends)
  server { listen 127.0.0.1:$legacy; location / { return 200 $legacy_body; } }
  server { listen 127.0.0.1:$modern; location / { return 200 $modern_body; } } }
EOF
  $load_cpu nginx -p "$work" -c "$work/backends.conf"
}

write_proxy_configs() {
  cat >"$work/ferry.yaml" <<EOF
listen: 127.0.0.1:$p_ferry
threads: $threads
timeouts: { client_idle: 600s }
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
  # maxconn 10000 needs 20,014 descriptors by HAProxy's count; with
  # "no strict-limits" it runs within a 20,000 hard limit, which is plenty
  # for idle client connections (one descriptor each).
  cat >"$work/haproxy.cfg" <<EOF
global
  nbthread $threads
  maxconn 10000
  no strict-limits
defaults
  mode http
  timeout connect 1s
  timeout client 600s
  timeout server 30s
  timeout http-keep-alive 600s
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
http { access_log off; keepalive_requests 10000000; keepalive_timeout 600s;
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
}

start_proxy() {
  case $1 in
    ferry)
      $proxy_cpu "$ferry" proxy --config "$work/ferry.yaml" --no-watch 2>"$work/ferry.log" &
      ferry_pid=$! ;;
    haproxy)
      $proxy_cpu haproxy -f "$work/haproxy.cfg" -D -p "$work/haproxy.pid" 2>"$work/haproxy.log" ||
        { echo "$name: haproxy did not start:" >&2; cat "$work/haproxy.log" >&2; exit 1; } ;;
    nginx) $proxy_cpu nginx -p "$work" -c "$work/nginx-proxy.conf" ;;
  esac
}

stop_proxy() {
  case $1 in
    ferry) kill "$ferry_pid"; wait "$ferry_pid" 2>/dev/null || true; ferry_pid="" ;;
    haproxy) kill "$(cat "$work/haproxy.pid")"; rm -f "$work/haproxy.pid" ;;
    nginx) kill -QUIT "$(cat "$work/nginx-proxy.pid")"; rm -f "$work/nginx-proxy.pid" ;;
  esac
  sleep 0.5
}

# The processes that do a proxy's work (nginx: its workers, not the master;
# another name: the benchmark's own proxies in named_pids).
pids_of() {
  case $1 in
    ferry) echo "$ferry_pid" ;;
    haproxy) cat "$work/haproxy.pid" ;;
    nginx) pgrep -P "$(cat "$work/nginx-proxy.pid")" | tr '\n' ' ' ;;
    *) echo "${named_pids[$1]:-}" ;;
  esac
}

# Resident memory of those processes, KiB.
rss_kib() {
  local total=0 p
  for p in $(pids_of "$1"); do
    total=$((total + $(awk '/^VmRSS:/{print $2}' "/proc/$p/status")))
  done
  echo "$total"
}

# The request mix wrk sends ($work/mix.lua): a third each of search, sticky
# users (1,000 distinct ids) and the rest.
write_request_mix() {
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
}

# CPU time a process has used so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# One wrk run of $seconds with $connections keep-alive connections against
# 127.0.0.1:PORT, sending the requests of the Lua SCRIPT; any error answer
# stops the benchmark. Prints req/s, p99 and the CPU per request of the proxy
# PID, and appends them to rps[LABEL], p99[LABEL] and cpu[LABEL] for median.
declare -A rps p99 cpu
measure_round() { # LABEL PID PORT SCRIPT
  local before after out r l n c
  before=$(cpu_ticks "$2")
  out=$($load_cpu wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$4" "http://127.0.0.1:$3/")
  after=$(cpu_ticks "$2")
  if grep -q -E "Non-2xx|Socket errors" <<<"$out"; then
    echo "$name: $1 had errors:" >&2
    echo "$out" >&2
    exit 1
  fi
  r=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  l=$(awk '$1=="99%"{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
  n=$(awk '/requests in/{print $1}' <<<"$out")
  c=$(echo "($after - $before) * 10000 / $n" | bc -l)
  rps[$1]+="$r " p99[$1]+="$l " cpu[$1]+="$c "
  printf '  %-10s %10.0f req/s  p99 %7.2f ms  %6.1f us CPU/request\n' "$1" "$r" "$l" "$c"
}
