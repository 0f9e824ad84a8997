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
grep -q 'id="dependency-graph"[^>]*data-ready="yes"' "$work/dom.html" ||
  { echo "the graph's pan/zoom script did not run"; exit 1; }
# No edge crosses a box: every segment is horizontal or vertical, and none
# enters a workload's box except the two it joins, at their ends.
python3 - "$work/dom.html" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
boxes = {}
for name, x, y, w, h in re.findall(
        r'<g class="node" data-name="([^"]+)"><title>.*?</title><rect x="([\d.]+)" y="([\d.]+)" '
        r'width="(\d+)" height="(\d+)"', dom):
    boxes[name] = (float(x), float(y), float(x) + float(w), float(y) + float(h))
edges = re.findall(r'<path class="edge[^"]*" data-from="([^"]+)" data-to="([^"]+)" d="([^"]+)"', dom)
assert boxes and edges, f"{len(boxes)} boxes, {len(edges)} edges"
def crosses(a, b, box):
    (x1, y1), (x2, y2) = a, b
    bx1, by1, bx2, by2 = box[0] + 1, box[1] + 1, box[2] - 1, box[3] - 1
    if y1 == y2:
        return by1 < y1 < by2 and min(x1, x2) < bx2 and max(x1, x2) > bx1
    assert x1 == x2, f"a diagonal segment {a} -> {b}"
    return bx1 < x1 < bx2 and min(y1, y2) < by2 and max(y1, y2) > by1
bad = []
for source, target, d in edges:
    points = [tuple(map(float, p.split(","))) for p in re.findall(r"[\d.]+,[\d.]+", d)]
    for k in range(len(points) - 1):
        for name, box in boxes.items():
            own = (k == 0 and name == source) or (k == len(points) - 2 and name == target)
            if not own and crosses(points[k], points[k + 1], box):
                bad.append(f"{source} -> {target} crosses {name}")
assert not bad, "\n".join(bad[:10])
print(f"{len(edges)} edges, none through a box")
PY
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
