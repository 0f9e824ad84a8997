#!/usr/bin/env bash
# Renders the example estate's HTML plan in headless Chromium and checks what
# the browser built: the dependency graph has one node per workload, the
# schedule's Gantt has one cutover bar per wave and a critical path, and the
# screenshot is a real image.
set -euo pipefail
ferry=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$ferry" assess examples/estate.yaml --format html --out "$work/plan.html" 2>/dev/null
"$ferry" assess examples/estate.yaml --format json --out "$work/plan.json" 2>/dev/null
workloads=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["workloads"]))' "$work/plan.json")
waves=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["waves"]))' "$work/plan.json")

browser=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
         --disable-background-networking --disable-component-update --disable-sync
         --user-data-dir="$work/profile")
"${browser[@]}" --dump-dom "file://$work/plan.html" >"$work/dom.html" 2>/dev/null
"${browser[@]}" --window-size=1400,1600 --screenshot="$work/plan.png" "file://$work/plan.html" >/dev/null 2>&1

nodes=$(grep -o 'class="node"' "$work/dom.html" | wc -l)
bars=$(grep -o 'class="cutover[ "]' "$work/dom.html" | wc -l)
critical=$(grep -o 'class="[a-z]* critical"' "$work/dom.html" | wc -l)
[[ $nodes -eq $workloads ]] || { echo "graph has $nodes nodes, plan has $workloads workloads"; exit 1; }
[[ $bars -eq $waves ]] || { echo "Gantt has $bars cutover bars, plan has $waves waves"; exit 1; }
[[ $critical -ge 3 ]] || { echo "Gantt marks $critical critical bars; the critical path has more"; exit 1; }
python3 - "$work/plan.png" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is not a PNG"
width, height = struct.unpack(">II", data[16:24])
assert (width, height) == (1400, 1600), f"unexpected screenshot size {width}x{height}"
assert len(data) > 50_000, f"screenshot is nearly empty ({len(data)} bytes)"
PY
cp "$work/plan.png" "${FERRY_SCREENSHOT_DIR:-$work}/assess-plan.png" 2>/dev/null || true
echo "chromium rendered $nodes workload nodes, $bars cutovers and $critical critical bars"
