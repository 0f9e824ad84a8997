#!/usr/bin/env python3
"""The JSON plan's stable keys, as scripts rely on them.

usage: json_contract.py FERRY_BINARY
Plans every example inventory and checks the keys, types and invariants:
strategies are lowercase 6 Rs, waves are 1-based and exist, nothing moves
before what it hard-depends on, every workload in a wave is listed there.
A failed run is JSON on stdout too, with the exit status it exits with:
  {"ok": false, "error": {"kind", "exit_status", "message", "sqlstate",
                          "problems": [{"file", "line", "column", "field", "message"}]}}
kind is invalid_input, io, database or internal; problems lists what
validation found in the input files (empty for other errors); line and
column are 0 when unknown, field is "" when a problem names none.
"""
import json
import re
import os
import subprocess
import sys
import tempfile

KINDS = {"invalid_input", "io", "database", "internal"}

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
    check_schedule(p, fail)


def check_schedule(p, fail):
    """Dates are ISO days; each task starts after what it comes after; waves
    cut over one at a time; the critical path runs unbroken to the end."""
    s = p["schedule"]
    date = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    tasks = {t["id"]: t for t in s["tasks"]}
    if sorted(tasks) != list(range(1, len(tasks) + 1)):
        fail("task ids are not 1..n")
    for t in s["tasks"]:
        if not (date.match(t["start"]) and date.match(t["finish"])) or t["finish"] < t["start"]:
            fail(f"task {t['id']} has bad dates {t['start']}..{t['finish']}")
        for a in t["after"]:
            if tasks[a]["finish"] > t["start"] and tasks[a]["working_days"] > 0 and t["working_days"] > 0:
                fail(f"task {t['id']} ({t['name']}) starts {t['start']} before task {a} ends {tasks[a]['finish']}")
        if t["kind"] in ("build", "sync") and t["workload"] not in {w["name"] for w in p["workloads"]}:
            fail(f"task {t['id']} names no workload")
    cutovers = [w["cutover"] for w in p["waves"]]
    for before, after in zip(cutovers, cutovers[1:]):
        if after["start"] <= before["finish"]:
            fail(f"two cutovers at once: {before} and {after}")
    path = [tasks[i] for i in s["critical_path"]]
    if not path or path[0]["start"] != s["start"] or path[-1]["finish"] != s["end"]:
        fail("the critical path does not run from the start to the end")
    if p["summary"]["end"] != s["end"] or p["summary"]["working_days"] != s["working_days"]:
        fail("summary and schedule disagree on the end")


def check_error(ferry, args, where, kind, problems):
    def fail(msg):
        sys.exit(f"{where}: {msg}")

    run = subprocess.run([ferry, "assess", *args, "--format", "json"], capture_output=True,
                         text=True)
    try:
        doc = json.loads(run.stdout)
    except json.JSONDecodeError:
        fail(f"stdout is not JSON: {run.stdout!r}")
    if doc.get("ok") is not False or not isinstance(doc.get("error"), dict):
        fail(f"not {{ok: false, error: {{...}}}}: {doc}")
    e = doc["error"]
    if set(e) != {"kind", "exit_status", "message", "sqlstate", "problems"}:
        fail(f"error keys are {sorted(e)}")
    if e["kind"] not in KINDS or e["kind"] != kind:
        fail(f"kind '{e['kind']}', expected '{kind}'")
    if e["exit_status"] != run.returncode or run.returncode == 0:
        fail(f"exit_status {e['exit_status']} but ferry exited {run.returncode}")
    if not isinstance(e["message"], str) or not isinstance(e["sqlstate"], str):
        fail("message and sqlstate must be strings")
    if len(e["problems"]) != problems:
        fail(f"{len(e['problems'])} problems, expected {problems}: {e['problems']}")
    for p in e["problems"]:
        if set(p) != {"file", "line", "column", "field", "message"}:
            fail(f"problem keys are {sorted(p)}")
        if not (isinstance(p["line"], int) and isinstance(p["column"], int)
                and all(isinstance(p[k], str) for k in ("file", "field", "message"))):
            fail(f"problem of the wrong types: {p}")


def main():
    ferry = sys.argv[1]
    for inventories in (["examples/estate.yaml"], ["examples/spreadsheet-inventory.csv"],
                        ["examples/konveyor-import.csv", "examples/aws-discovery-import.csv"]):
        check(plan(ferry, *inventories), " + ".join(inventories))
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("workloads:\n  - name: api\n    kind: servise\n    depends_on: [dbb]\n")
        check_error(ferry, [os.path.join(tmp, "missing.yaml")], "a missing inventory", "io", 1)
        check_error(ferry, [bad], "an invalid inventory", "invalid_input", 2)
    print("JSON contract holds for every example and for errors")


if __name__ == "__main__":
    main()
