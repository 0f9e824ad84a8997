#!/usr/bin/env python3
"""A load of sticky users for the demo: proof that a migration cost no request.

    load.py --url http://127.0.0.1:8080 --users 50 --duration 60 \\
            [--write-share 0.2] [--summary FILE]

Each user is a thread with its own `X-User-Id: user-N` (the proxy's sticky
key) and its own customer, cN (shop_app.py --seed creates c1..cN), on its
own kept-alive connection. It reads its customer (GET) or places an order
(POST, --write-share of requests), then waits a short think time, until
--duration passes or SIGTERM/SIGINT arrives; either way it finishes the
request under way, writes the summary and exits.

Every request counts. Failed: any answer but 2xx (503 too: a user saw an
error), a connection error, a timeout (--timeout). Not failed: 404 on GET,
which shop_app documents for a customer without orders yet (the user then
places one, which creates it). Every 5 s a line shows the last 5 s:
requests, failures, p50/p99 latency, and the share each backend answered
(X-Served-By), so the move from legacy to modern can be watched.

The summary (JSON, --summary FILE, written whole at the end):
  {requests, ok, failed, not_found, orders_created, failures: [first 20 with
   t_s, time, user, method, path, status (0: no answer), detail],
   p50_ms, p99_ms, max_ms, by_backend: {legacy: N, modern: N}, by_status,
   per_second: [{t_s, requests, failed}], duration_s, stopped_by, url, users}
Exit status: 0 no request failed, 1 some did (or none was made), 2 usage.
"""
import argparse
import http.client
import json
import os
import random
import signal
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone

ITEMS = ["tea", "coffee", "bread", "cheese", "apples", "rice", "pasta", "honey"]
KEPT_FAILURES = 20
PROGRESS_EVERY_S = 5


def percentile(sorted_values, share):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


class Tally:
    """Every request's outcome, shared by the user threads."""

    def __init__(self, started):
        self.started = started
        self.lock = threading.Lock()
        self.requests = self.failed = self.not_found = self.orders_created = 0
        self.latencies_ms = []
        self.by_backend = {}
        self.by_status = {}
        self.per_second = {}  # whole seconds since start -> [requests, failed]
        self.failures = []
        self.window = []  # (latency_ms, failed, backend) since the last progress line

    def record(self, user, method, path, status, latency_ms, backend, failed, detail=""):
        now = time.monotonic()
        with self.lock:
            self.requests += 1
            self.latencies_ms.append(latency_ms)
            self.by_status[str(status)] = self.by_status.get(str(status), 0) + 1
            if backend:
                self.by_backend[backend] = self.by_backend.get(backend, 0) + 1
            second = self.per_second.setdefault(int(now - self.started), [0, 0])
            second[0] += 1
            if status == 404 and not failed:
                self.not_found += 1
            if status == 201:
                self.orders_created += 1
            if failed:
                self.failed += 1
                second[1] += 1
                if len(self.failures) < KEPT_FAILURES:
                    self.failures.append({
                        "t_s": round(now - self.started, 3),
                        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                        "user": user, "method": method, "path": path, "status": status,
                        "detail": detail[:300]})
            self.window.append((latency_ms, failed, backend))

    def progress_line(self):
        with self.lock:
            window, self.window = self.window, []
            failed_total = self.failed
        elapsed = time.monotonic() - self.started
        latencies = sorted(w[0] for w in window)
        backends = {}  # of the requests answered
        for _, _, backend in window:
            if backend:
                backends[backend] = backends.get(backend, 0) + 1
        answered = sum(backends.values())
        shares = " ".join(f"{name} {100 * n / answered:.0f}%"
                          for name, n in sorted(backends.items())) or "-"
        return (f"load {elapsed:6.1f}s: {len(window)} requests "
                f"({len(window) / PROGRESS_EVERY_S:.0f}/s), "
                f"{sum(1 for w in window if w[1])} failed ({failed_total} in all), "
                f"p50 {percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms"
                f" | {shares}")

    def summary(self, duration_s, stopped_by, args):
        with self.lock:
            latencies = sorted(self.latencies_ms)
            return {
                "requests": self.requests,
                "ok": self.requests - self.failed,
                "failed": self.failed,
                "not_found": self.not_found,
                "orders_created": self.orders_created,
                "failures": list(self.failures),
                "p50_ms": round(percentile(latencies, 0.5), 2),
                "p99_ms": round(percentile(latencies, 0.99), 2),
                "max_ms": round(latencies[-1], 2) if latencies else 0.0,
                "by_backend": dict(sorted(self.by_backend.items())),
                "by_status": dict(sorted(self.by_status.items())),
                "per_second": [{"t_s": t, "requests": n, "failed": f}
                               for t, (n, f) in sorted(self.per_second.items())],
                "duration_s": round(duration_s, 3),
                "stopped_by": stopped_by,
                "url": args.url,
                "users": args.users,
                "write_share": args.write_share,
            }


class User(threading.Thread):
    """One sticky user: one X-User-Id, one customer, one connection at a time."""

    def __init__(self, number, target, args, tally, stop, rng):
        super().__init__(name=f"user-{number}", daemon=True)
        self.user_id = f"user-{number}"
        self.customer = f"c{number}"
        self.target = target
        self.args = args
        self.tally = tally
        self.stop = stop
        self.rng = rng
        self.conn = None
        self.must_order = False  # after a 404: this customer exists from its first order

    def run(self):
        # Users start spread over the first think time, not all in one burst.
        self.stop.wait(self.rng.uniform(0, self.args.think_ms / 1000))
        while not self.stop.is_set():
            if self.must_order or self.rng.random() < self.args.write_share:
                self.place_order()
            else:
                self.read_customer()
            self.stop.wait(self.rng.uniform(0.5, 1.5) * self.args.think_ms / 1000)
        if self.conn:
            self.conn.close()

    def read_customer(self):
        status = self.request("GET", f"/api/customers/{self.customer}")
        self.must_order = status == 404

    def place_order(self):
        body = {"item": self.rng.choice(ITEMS), "price": round(self.rng.uniform(1, 100), 2)}
        status = self.request("POST", f"/api/customers/{self.customer}/orders", body)
        if 200 <= status < 300:
            self.must_order = False

    def request(self, method, path, body=None):
        """Sends one request and records it; returns its status (0: no answer)."""
        path = self.target.path.rstrip("/") + path
        headers = {"X-User-Id": self.user_id, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        status, backend, detail = 0, "", ""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.target.hostname, self.target.port or 80,
                                                       timeout=self.args.timeout)
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
            status = response.status
            backend = response.getheader("X-Served-By") or served_by(payload)
            if response.will_close:
                self.drop_connection()
            if not 200 <= status < 300:
                detail = error_of(payload) or response.reason
        except (OSError, http.client.HTTPException) as e:
            # A timeout is an OSError too; either way this connection is done.
            detail = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            self.drop_connection()
        latency_ms = (time.monotonic() - started) * 1000
        failed = not (200 <= status < 300 or (status == 404 and method == "GET"))
        self.tally.record(self.user_id, method, path, status, latency_ms, backend, failed, detail)
        return status

    def drop_connection(self):
        if self.conn:
            self.conn.close()
        self.conn = None


def served_by(payload):
    """The answering backend from the JSON body, for a server without X-Served-By."""
    try:
        value = json.loads(payload).get("served_by", "")
        return value if isinstance(value, str) else ""
    except (ValueError, AttributeError):
        return ""


def error_of(payload):
    try:
        document = json.loads(payload)
        if isinstance(document, dict) and isinstance(document.get("error"), str):
            return document["error"]
    except ValueError:
        pass
    return payload[:200].decode("utf-8", "replace").strip()


def write_summary(path, summary):
    # Written whole under a temporary name, then renamed: whoever waits for
    # the file never reads half of it.
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w") as out:
        json.dump(summary, out, indent=2)
        out.write("\n")
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description="Sticky users against a URL; counts every "
                                     "failed request (exit 1 if any).")
    parser.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--users", type=int, default=50, help="simulated users (50)")
    parser.add_argument("--duration", type=float, default=60,
                        help="seconds to run; 0: until SIGTERM or SIGINT (60)")
    parser.add_argument("--write-share", type=float, default=0.2,
                        help="share of requests that place an order (0.2)")
    parser.add_argument("--think-ms", type=float, default=100,
                        help="mean pause between a user's requests (100)")
    parser.add_argument("--timeout", type=float, default=10,
                        help="seconds a request may take before it counts as failed (10)")
    parser.add_argument("--summary", help="write the JSON summary to this file")
    parser.add_argument("--random-seed", type=int,
                        help="seed of the users' random choices (printed; repeats a run)")
    args = parser.parse_args()
    target = urllib.parse.urlsplit(args.url)
    if target.scheme != "http" or not target.hostname:
        parser.error(f"--url {args.url}: give an http:// URL with a host")
    if args.users < 1 or args.duration < 0 or not 0 <= args.write_share <= 1:
        parser.error("--users at least 1, --duration at least 0, --write-share from 0 to 1")
    if args.think_ms < 0 or args.timeout <= 0:
        parser.error("--think-ms at least 0, --timeout above 0")

    seed = args.random_seed if args.random_seed is not None else random.randrange(1 << 31)
    stop = threading.Event()
    stopped_by = ["duration"]

    def on_signal(signum, _frame):
        stopped_by[0] = signal.Signals(signum).name
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    print(f"load: {args.users} users against {args.url} for "
          f"{f'{args.duration:g} s' if args.duration else 'until stopped'}, "
          f"{args.write_share:.0%} writes (--random-seed {seed})", flush=True)
    started = time.monotonic()
    tally = Tally(started)
    rng = random.Random(seed)
    users = [User(n, target, args, tally, stop, random.Random(rng.random()))
             for n in range(1, args.users + 1)]
    for user in users:
        user.start()

    # The main thread keeps time and prints progress; signals land here.
    deadline = started + args.duration if args.duration else None
    next_progress = started + PROGRESS_EVERY_S
    while not stop.is_set():
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            break
        stop.wait(min(next_progress, deadline or next_progress) - now)
        if time.monotonic() >= next_progress and not stop.is_set():
            print(tally.progress_line(), flush=True)
            next_progress += PROGRESS_EVERY_S
    stop.set()
    for user in users:
        user.join(args.timeout + 1)  # each finishes the request under way
    duration_s = time.monotonic() - started

    summary = tally.summary(duration_s, stopped_by[0], args)
    if args.summary:
        write_summary(args.summary, summary)
    backends = ", ".join(f"{name} {n}" for name, n in summary["by_backend"].items())
    print(f"load: {summary['requests']} requests in {duration_s:.1f} s, {summary['failed']} failed"
          f", p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms"
          f", answered by {backends or '-'} (stopped by {stopped_by[0]})", flush=True)
    for failure in summary["failures"][:5]:
        print(f"  failed at {failure['t_s']} s: {failure['method']} {failure['path']} "
              f"{failure['status'] or 'no answer'}: {failure['detail']}", flush=True)
    if summary["requests"] == 0:
        print("load: no request was made", file=sys.stderr)
    return 0 if summary["failed"] == 0 and summary["requests"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
