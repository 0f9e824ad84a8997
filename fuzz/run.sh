#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 20), seeded with the
# example inventories, the shipped rules and catalog, a few connection strings,
# pgoutput messages, HTTP requests, the example proxy configs and run plans. Builds the `fuzz`
# preset first. A crash leaves its reproducer in build-fuzz/findings/.
#
# usage: fuzz/run.sh [SECONDS] [SEED]
# With a SEED the run is repeatable (make test passes 1, so CI is not at the
# mercy of a lucky draw); without one libFuzzer picks a fresh seed each time.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
seed_flag=()
[[ -n ${2:-} ]] && seed_flag=(-seed="$2")
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target inventory_fuzz config_fuzz conninfo_fuzz pgoutput_fuzz \
  http_request_fuzz proxy_config_fuzz plan_fuzz
mkdir -p build-fuzz/findings build-fuzz/corpus/inventory build-fuzz/corpus/config \
  build-fuzz/corpus/conninfo build-fuzz/corpus/pgoutput build-fuzz/corpus/http_request \
  build-fuzz/corpus/proxy_config build-fuzz/corpus/plan
cp examples/proxy/*.yaml build-fuzz/corpus/proxy_config/
cp examples/run/*.yaml build-fuzz/corpus/plan/
cp examples/*.yaml examples/*.csv build-fuzz/corpus/inventory/
cp data/*.yaml build-fuzz/corpus/config/
seeds=("postgresql://app:s3cret@db1.example:5432/shop?sslmode=require"
  "host=10.0.0.5 port=5433 dbname='my db' user=app password='p w'"
  "postgres://u:hunter%zz2@[::1/x" "postgresql:///db?host=/tmp&password=x")
for i in "${!seeds[@]}"; do printf '%s' "${seeds[$i]}" >"build-fuzz/corpus/conninfo/seed$i"; done
# pgoutput: a Relation, an Insert and an Update as a server writes them.
printf 'R\0\0\x40\x10public\0t\0d\0\x02\x01id\0\0\0\0\x17\xff\xff\xff\xff\0note\0\0\0\0\x19\xff\xff\xff\xff' \
  >build-fuzz/corpus/pgoutput/relation
printf 'I\0\0\x40\x10N\0\x02t\0\0\0\x017n' >build-fuzz/corpus/pgoutput/insert
printf 'U\0\0\x40\x10K\0\x02t\0\0\0\x017nN\0\x02t\0\0\0\x018u' >build-fuzz/corpus/pgoutput/update
# http_request: requests as clients send them, smuggling attempts among them.
printf 'GET /api/users/1?v=2 HTTP/1.1\r\nHost: shop\r\nX-User-Id: u1\r\n\r\n' >build-fuzz/corpus/http_request/get
printf 'POST /o HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: x\r\n\r\n' \
  >build-fuzz/corpus/http_request/chunked
printf 'POST /o HTTP/1.1\r\nHost: s\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc' \
  >build-fuzz/corpus/http_request/smuggle
printf 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' >build-fuzz/corpus/http_request/response
for target in inventory config conninfo pgoutput http_request proxy_config plan; do
  echo "fuzz: ${target}_fuzz for ${seconds}s"
  log=build-fuzz/${target}_fuzz.log
  status=0
  build-fuzz/fuzz/${target}_fuzz "${seed_flag[@]}" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -artifact_prefix=build-fuzz/findings/ -print_final_stats=1 \
    build-fuzz/corpus/$target >"$log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|==|SUMMARY|ERROR|Done)" "$log" || true
  # libFuzzer exits non-zero on a finding (and writes crash-*/leak-*/timeout-*),
  # and also when it could not run at all: either fails the run.
  if [[ $status -ne 0 ]] || compgen -G "build-fuzz/findings/*" >/dev/null; then
    echo "fuzz: ${target}_fuzz exited with status $status; the end of its log ($log):" >&2
    tail -n 20 "$log" >&2
    if compgen -G "build-fuzz/findings/*" >/dev/null; then
      echo "fuzz: findings in build-fuzz/findings/:" >&2
      ls build-fuzz/findings >&2
    fi
    exit 1
  fi
done
