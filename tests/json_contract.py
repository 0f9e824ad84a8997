#!/usr/bin/env python3
"""The JSON plan's stable keys, as scripts rely on them (issue 2's contract).

usage: json_contract.py FERRY_BINARY
Plans every example inventory and checks the keys, types and invariants:
strategies are lowercase 6 Rs, waves are 1-based and exist, nothing moves
before what it hard-depends on, every workload in a wave is listed there.
"""
import json
import subprocess
import sys

STRATEGIES = {"rehost", "replatform", "refactor", "repurchase", "retire", "retain"}


def plan(ferry, *inventories):
    out = subprocess.run([ferry, "assess", *inventories, "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def check(p, where):
    def fail(msg):
        sys.exit(f"{where}: {msg}")

    for key in ("workloads", "waves", "warnings"):
        if not isinstance(p.get(key), list):
            fail(f"top-level '{key}' is not a list")
    waves = {w["index"]: w for w in p["waves"]}
    if sorted(waves) != list(range(1, len(waves) + 1)):
        fail(f"wave indexes are not 1..n: {sorted(waves)}")
    by_name = {w["name"]: w for w in p["workloads"]}
    for w in p["workloads"]:
        name = w["name"]
        if w["strategy"] not in STRATEGIES:
            fail(f"{name}: strategy '{w['strategy']}' is not a lowercase 6R")
        if not isinstance(w["reasons"], list) or not w["reasons"]:
            fail(f"{name}: reasons must be a non-empty list")
        if not isinstance(w["confidence"], int) or not 1 <= w["confidence"] <= 5:
            fail(f"{name}: confidence {w['confidence']} is not 1..5")
        moving = w["strategy"] not in ("retire", "retain")
        if moving != (w["wave"] is not None):
            fail(f"{name}: wave {w['wave']} for strategy {w['strategy']}")
        if w["wave"] is not None and name not in waves[w["wave"]]["workloads"]:
            fail(f"{name}: not listed in wave {w['wave']}")
        for m in w["service_mappings"]:
            if not {"from", "to", "complexity"} <= m.keys():
                fail(f"{name}: service mapping without from/to/complexity: {m}")
        for d in w["data_plan"]:
            if not {"name", "method", "copy_hours", "downtime_minutes"} <= d.keys():
                fail(f"{name}: data plan entry without name/method/copy_hours/downtime_minutes: {d}")
        if not isinstance(w["risks"], list):
            fail(f"{name}: risks is not a list")
        for dep in w["depends_on"]:
            if w["wave"] is not None and by_name[dep]["wave"] is not None and by_name[dep]["wave"] > w["wave"]:
                fail(f"{name} (wave {w['wave']}) moves before {dep} (wave {by_name[dep]['wave']})")
    listed = sum(len(w["workloads"]) for w in p["waves"])
    if listed != sum(1 for w in p["workloads"] if w["wave"] is not None):
        fail("waves list a different number of workloads than have a wave")


def main():
    ferry = sys.argv[1]
    for inventories in (["examples/estate.yaml"], ["examples/seed-inventory.csv"],
                        ["examples/konveyor-import.csv", "examples/aws-discovery-import.csv"]):
        check(plan(ferry, *inventories), " + ".join(inventories))
    print("JSON contract holds for every example")


if __name__ == "__main__":
    main()
