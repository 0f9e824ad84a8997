#!/usr/bin/env bash
# Benchmark: `ferry assess` on a generated estate of 10,000 workloads and
# 50,000 dependency edges must plan in under 1 second. No tool plans
# a whole estate this way, so the anchor is the target itself: the script
# prints each median wall time and its ratio to the 1 s budget.
#
# usage: bench/assess_scale.sh [WORKLOADS] [EDGES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
workloads=${1:-10000}
edges=${2:-50000}
runs=${3:-7}
ferry=build/ferry
[[ -x $ferry ]] || make build >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_estate.py "$workloads" "$edges" "$work/estate.yaml"
echo "estate: $workloads workloads, $edges edges, $(du -h "$work/estate.yaml" | cut -f1) of YAML; $runs runs each"
echo "machine: $(nproc) cores, $(uname -r)"

median_seconds() {  # runs a command $runs times, prints the median wall time
  local times=()
  for ((i = 0; i < runs; i++)); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

printf '%-44s %10s %12s\n' "command" "median s" "vs 1 s target"
for format in table json markdown html csv; do
  t=$(median_seconds "$ferry" assess "$work/estate.yaml" --format "$format" --out "$work/plan.$format")
  printf '%-44s %10.3f %11.2fx\n' "ferry assess --format $format --out FILE" "$t" "$(echo "$t / 1" | bc -l)"
done
echo "peak memory (json): $(/usr/bin/time -f '%M KB' "$ferry" assess "$work/estate.yaml" --format json --out "$work/plan.json" 2>&1 >/dev/null | tail -1)"
