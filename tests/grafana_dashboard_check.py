#!/usr/bin/env python3
"""deploy/grafana/ferry.json against what ferry really exports.

Every metric name in the dashboard's queries (each panel's `expr`, each
variable's query) must be one ferry exports, and every label it selects or
groups by must be one that metric carries:

  - proxy metrics: a real `ferry proxy` (a tiny config with a breaker, a
    rollout and a mirror, one backend from tests/http_backend.py, a request
    through each route) is scraped at its admin
    listener's /metrics. Histograms count with their _bucket, _sum and _count
    series (and `le`), as Prometheus stores them.
  - follow metrics: a real follow needs PostgreSQL, so they are checked
    against the exact string literals of src/db and src/core (the names and
    the label names in `key=\\"` form that the metrics are printed with).

It also checks the dashboard's shape: a Prometheus datasource variable that
every panel and query uses, unique panel ids, unique refIds per panel.

usage: tests/grafana_dashboard_check.py FERRY_BINARY
"""
import json
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy" / "grafana" / "ferry.json"
# Added by Prometheus to every series it scrapes.
TARGET_LABELS = {"instance", "job"}
problems = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, seconds=10):
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if process.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def parse_exposition(text, families):
    """Adds {series name: label names} from Prometheus text to `families`."""
    types = dict(re.findall(r"^# TYPE (\w+) (\w+)$", text, re.M))
    for name, kind in types.items():
        if kind == "histogram":
            for suffix in ("_bucket", "_sum", "_count"):
                families.setdefault(name + suffix, set())
            families[name + "_bucket"].add("le")
        else:
            families.setdefault(name, set())
    for name, labels in re.findall(r"^(\w+)(?:\{([^}]*)\})? \S+$", text, re.M):
        families.setdefault(name, set()).update(re.findall(r'(\w+)="', labels))


def scrape_proxy(ferry):
    """{series name: label names} of a running proxy with one request served."""
    port, admin, backend_port = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory() as work:
        config = pathlib.Path(work) / "proxy.yaml"
        config.write_text(f"listen: 127.0.0.1:{port}\nadmin: {{ listen: 127.0.0.1:{admin} }}\n"
                          f"pools: {{ app: {{ endpoints: [127.0.0.1:{backend_port}], "
                          f"breaker: {{}} }}, new: {{ endpoints: [127.0.0.1:{backend_port}] }} }}\n"
                          "routes: [ { name: diffs, match: { path_prefix: /json/ }, to: app, "
                          "mirror: { pool: new } },\n"
                          "  { name: all, split: [ { pool: app, weight: 100 }, "
                          "{ pool: new, weight: 0 } ], rollout: { to: new, steps: [ { weight: 100 } ] } } ]\n")
        backend = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "http_backend.py"), str(backend_port), "app"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proxy = subprocess.Popen([ferry, "proxy", "--config", str(config)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            if not wait_for_port(backend_port, backend) or not wait_for_port(admin, proxy):
                proxy.kill()
                sys.exit(f"grafana_dashboard_check: the proxy or its backend did not start:\n"
                         f"{proxy.communicate()[1]}")
            urllib.request.urlopen(f"http://127.0.0.1:{port}/echo", timeout=5).read()
            # Mirrored and compared after the answer: its request id differs every time.
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json/u1", timeout=5).read()
            until = time.monotonic() + 10
            while True:
                text = urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=5).read()
                if b"ferry_mirror_field_differences_total{" in text or time.monotonic() > until:
                    break
                time.sleep(0.05)
        finally:
            proxy.terminate()
            backend.terminate()
            proxy.wait()
            backend.wait()
    families = {}
    parse_exposition(text.decode(), families)
    return families


def follow_from_source():
    """{series name: label names} of follow, from the string literals that print them:
    a literal with a name gives that name its labels; the one label set without a
    name ({direction=..., slot=...}) is printed with every follow metric."""
    families, shared = {}, set()
    for folder in ("db", "core"):
        for path in sorted((ROOT / "src" / folder).rglob("*.cc")):
            if path.name.endswith("_test.cc"):
                continue
            for literal in re.findall(r'"((?:[^"\\\n]|\\.)*)"', path.read_text()):
                labels = set(re.findall(r'(\w+)=\\"', literal))
                names = re.findall(r"\b(ferry_follow_[a-z0-9_]+)", literal)
                for name in names:
                    families.setdefault(name, set()).update(labels)
                if not names and "{{direction" in literal:
                    shared |= labels
    if not families or not shared:
        sys.exit("grafana_dashboard_check: no follow metrics found in src/db, src/core")
    return {name: labels | shared for name, labels in families.items()}


def queries(dashboard):
    """(where, query text) for every panel target and query variable."""
    out = []
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            out.append((f"panel '{panel.get('title')}' {target.get('refId')}", target.get("expr", "")))
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            query = var.get("query")
            out.append((f"variable ${var.get('name')}",
                        query.get("query", "") if isinstance(query, dict) else query or ""))
    return out


def check_shape(dashboard):
    variables = dashboard.get("templating", {}).get("list", [])
    datasource = [v for v in variables if v.get("type") == "datasource"]
    if len(datasource) != 1 or datasource[0].get("query") != "prometheus":
        problems.append("no Prometheus datasource variable")
        return
    uid = "${" + datasource[0]["name"] + "}"
    ids = [p.get("id") for p in dashboard.get("panels", [])]
    if len(ids) != len(set(ids)):
        problems.append(f"panel ids repeat: {ids}")
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            continue
        title = panel.get("title")
        if "gridPos" not in panel:
            problems.append(f"panel '{title}': no gridPos")
        refs = [t.get("refId") for t in panel.get("targets", [])]
        if not refs or len(refs) != len(set(refs)):
            problems.append(f"panel '{title}': queries {refs} (none, or a refId twice)")
        for thing in [panel] + panel.get("targets", []):
            if thing.get("datasource", {}).get("uid") != uid:
                problems.append(f"panel '{title}': datasource is not {uid}")
                break
    for var in variables:
        if var.get("type") == "query" and var.get("datasource", {}).get("uid") != uid:
            problems.append(f"variable ${var.get('name')}: datasource is not {uid}")


def check_queries(dashboard, families):
    used = set()
    for where, expr in queries(dashboard):
        metrics = re.findall(r"\b(ferry_\w+)", expr)
        if not metrics:
            problems.append(f"{where}: no ferry metric in '{expr}'")
            continue
        known = set(TARGET_LABELS)
        for name in metrics:
            used.add(name)
            if name not in families:
                problems.append(f"{where}: ferry exports no metric {name}")
            else:
                known |= families[name]
        # Labels selected on a metric, grouped by, or asked of label_values().
        for name, selector in re.findall(r"\b(ferry_\w+)\{([^}]*)\}", expr):
            for label in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", selector):
                if name in families and label not in families[name] | TARGET_LABELS:
                    problems.append(f"{where}: {name} has no label {label}")
        grouped = re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr)
        if "histogram_quantile" in expr and not all("le" in re.findall(r"\w+", g) for g in grouped):
            problems.append(f"{where}: histogram_quantile needs the buckets' le kept: '{expr}'")
        grouped += re.findall(r"label_values\(\s*\w+(?:\{[^}]*\})?\s*,\s*(\w+)\s*\)", expr)
        for group in grouped:
            for label in re.findall(r"\w+", group):
                if label not in known:
                    problems.append(f"{where}: no metric of '{expr}' has the label {label}")
    return used


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    ferry = sys.argv[1]
    try:
        dashboard = json.loads(DASHBOARD.read_text())
    except (OSError, json.JSONDecodeError) as e:
        sys.exit(f"grafana_dashboard_check: {DASHBOARD}: {e}")
    check_shape(dashboard)
    families = scrape_proxy(ferry)
    if "ferry_proxy_requests_total" not in families:
        sys.exit("grafana_dashboard_check: the proxy's /metrics has no ferry_proxy_requests_total")
    families.update(follow_from_source())
    used = check_queries(dashboard, families)
    for p in problems:
        print(p)
    if problems:
        print(f"grafana_dashboard_check: {len(problems)} problem(s)")
        return 1
    print(f"grafana_dashboard_check: {len(queries(dashboard))} queries use {len(used)} series, "
          "all exported by ferry")
    return 0


if __name__ == "__main__":
    sys.exit(main())
