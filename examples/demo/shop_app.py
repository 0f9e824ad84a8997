#!/usr/bin/python3
"""The sample web service that `make demo` migrates: a tiny shop API on
PostgreSQL, in two versions that answer alike (legacy on the old database,
modern on the new one), so that a migration has real traffic and real
writes to move.

    SHOP_DB=postgres://app:secret@127.0.0.1:5432/shop \\
        shop_app.py --port 18081 --version legacy     # serve until SIGTERM
    SHOP_DB=... shop_app.py --seed 10000               # load sample rows, exit

The database URI comes from $SHOP_DB only (never the command line, where
`ps` shows it to everyone) and is printed with its password masked. Or from
the file $SHOP_DB_FILE names, read again whenever it changes: a cutover's
hook rewrites it (`ferry run`'s `then:`), and the app moves to the database
it names, closing the connections it had to the old one.

API (every answer is JSON, `Content-Type: application/json`):
  GET  /api/customers/ID         200 {id, name, visits, orders: [latest 5], served_by}
                                 404 when there is no such customer: reads never write, so
                                 they keep working while the database is read-only
  POST /api/customers/ID/orders  {"item": "...", "price": 12.5} -> 201 {order..., visits};
                                 creates the customer on its first order, counts a visit
  GET  /health                   200 when the database answers, 503 otherwise
Both versions send `X-Served-By: VERSION` and `served_by` in the JSON.

Failures a migration causes are answered, not crashed on:
  - a read-only database (a source after cutover: default_transaction_read_only)
    makes writes answer 503 with Retry-After and the reason;
  - lost connections (a restart, sessions ended by a cutover) are replaced; a
    transaction that lost its connection before COMMIT was sent is run again
    on a fresh one (the server rolled it back, so nothing can be doubled),
    so only a request whose COMMIT was under way can fail (503).

Fault switch, for the rollback demo: $SHOP_FAULTS="error_rate=0.05,slow_ms=300"
answers 500 on that share of /api/ requests and adds that latency to each.
/health is exempt, so it is the proxy's rollout analysis, not its health
check, that notices the bad version.
"""
import argparse
import json
import os
import random
import re
import signal
import sys
import threading
import time
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import psycopg2
    import psycopg2.errors
except ImportError:
    sys.exit("shop_app: psycopg2 is missing: install Debian's python3-psycopg2 (scripts/setup) "
             "and run this with /usr/bin/python3, the interpreter it is installed for")

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS customers (
         id text PRIMARY KEY,
         name text NOT NULL,
         visits bigint NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS orders (
         id bigserial PRIMARY KEY,
         customer_id text NOT NULL REFERENCES customers,
         item text NOT NULL,
         price numeric(10,2) NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now())""",
    "CREATE INDEX IF NOT EXISTS orders_customer_id ON orders (customer_id)",
]

ITEMS = ["tea", "coffee", "bread", "cheese", "apples", "olive oil", "rice", "pasta",
         "chocolate", "honey", "lentils", "yoghurt"]

CUSTOMER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
RETRY_AFTER_S = 1


def redact(dsn):
    """The connection string with its password replaced by ***."""
    dsn = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", dsn)             # postgres://user:PW@host
    return re.sub(r"(password\s*=\s*)('[^']*'|[^\s&]*)", r"\1***", dsn)  # key=value, ?password=


# --- the database side -------------------------------------------------------

class DatabaseUnavailable(Exception):
    """No answer from the database: the request may be retried (503)."""


class CannotConnect(DatabaseUnavailable):
    """The database refused or did not answer a new connection."""


class ReadOnlyDatabase(Exception):
    """The database refuses writes for now (a cutover set it read-only)."""


class ConnectionPool:
    """At most `size` connections, opened when needed. psycopg2's own
    ThreadedConnectionPool raises when all are taken instead of waiting, and
    knows nothing of connections that died while idle; this one waits, and
    drops a connection that failed instead of handing it out again."""

    def __init__(self, dsn, size, connect_timeout_s=3, dsn_file=None):
        self._dsn = dsn
        self._dsn_file = dsn_file
        self._dsn_checked = 0  # the file's mtime when last read
        self._connect_timeout_s = connect_timeout_s
        self._slots = threading.BoundedSemaphore(size)
        self._idle = []
        self._lock = threading.Lock()
        # Connections opened to the database the URI named before it changed
        # are closed when given back, never handed out again.
        self._generation = 0
        self._born = {}

    def dsn(self):
        self._follow_dsn_file()
        return self._dsn

    def _follow_dsn_file(self):
        """Reads $SHOP_DB_FILE again when it has changed (a stat per
        connection handed out: a cutover's hook rewrites it just before the
        held requests are let go, so the first of them must see it); a new
        URI there retires every connection to the old one."""
        if not self._dsn_file:
            return
        try:
            changed = os.stat(self._dsn_file).st_mtime_ns
            if changed == self._dsn_checked:
                return
            with open(self._dsn_file) as f:
                dsn = f.read().strip()
        except OSError:
            return
        if not dsn:
            return  # caught mid-write: read again next time
        self._dsn_checked = changed
        if dsn == self._dsn:
            return
        print(f"shop_app: database is now {redact(dsn)} (was {redact(self._dsn)}), from "
              f"{self._dsn_file}", file=sys.stderr, flush=True)
        with self._lock:
            self._dsn = dsn
            self._generation += 1
        self.discard_idle()

    def acquire(self, wait_s=5.0):
        if not self._slots.acquire(timeout=wait_s):
            raise DatabaseUnavailable(f"all database connections busy for {wait_s:g} s")
        self._follow_dsn_file()
        with self._lock:
            conn = self._idle.pop() if self._idle else None
            dsn, generation = self._dsn, self._generation
        if conn is not None:
            return conn
        try:
            # TimeZone UTC: created_at rendered alike whichever server answers
            # (the old and the new server's default TimeZone may differ).
            conn = psycopg2.connect(dsn, connect_timeout=self._connect_timeout_s,
                                    application_name="shop_app", options="-c TimeZone=UTC")
        except psycopg2.Error as e:
            self._slots.release()
            raise CannotConnect(f"cannot connect: {first_line(e)}") from None
        with self._lock:
            self._born[id(conn)] = generation
        return conn

    def release(self, conn):
        with self._lock:
            stale = self._born.get(id(conn), self._generation) != self._generation
        if conn.closed or stale:
            self.discard(conn)
            return
        with self._lock:
            self._idle.append(conn)
        self._slots.release()

    def give_back(self, conn):
        """Returns a connection whose transaction failed: rolled back first."""
        try:
            if not conn.closed:
                conn.rollback()
        except psycopg2.Error:
            pass
        self.release(conn)  # which drops it if the rollback found it dead

    def discard(self, conn):
        self._close(conn)
        self._slots.release()

    def _close(self, conn):
        with self._lock:
            self._born.pop(id(conn), None)
        try:
            conn.close()
        except psycopg2.Error:
            pass

    def discard_idle(self):
        """Closes every idle connection. Called when one is found dead: a
        restart or a cutover ends all sessions at once, and each idle one would
        otherwise fail its next request in turn."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close(conn)

    def close(self):
        self.discard_idle()


def first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def in_transaction(pool, work, wait_s=5.0, retry_s=5.0):
    """Runs work(cursor) in one transaction and returns its result, through
    the failures a migration causes:

    - a connection lost before COMMIT: the server rolled the transaction
      back, so it is run again on a fresh connection;
    - a database that refuses connections (restarting, shutting down): asked
      again every 100 ms for up to retry_s;
    - a connection lost during COMMIT: the outcome is looked up by the
      transaction's id (txid_status) on a new connection; committed, the
      result stands; aborted, the transaction runs again. Nothing is written
      twice and nothing is reported lost that was written.

    So a restart, or a cutover that ends every session, costs latency, not
    errors."""
    deadline = time.monotonic() + retry_s
    lost = 0
    while True:
        try:
            conn = pool.acquire(wait_s)
        except CannotConnect:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)
            continue
        xid = None
        committing = False
        try:
            with conn.cursor() as cur:
                result = work(cur)
                # NULL unless the transaction wrote: only a write needs looking up.
                cur.execute("SELECT txid_current_if_assigned()")
                xid = cur.fetchone()[0]
            committing = True
            conn.commit()
            pool.release(conn)
            return result
        except psycopg2.errors.ReadOnlySqlTransaction:
            pool.give_back(conn)
            raise ReadOnlyDatabase() from None
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
            if not conn.closed:  # an ordinary error (a timeout, ...): the connection is fine
                pool.give_back(conn)
                raise
            pool.discard(conn)
            pool.discard_idle()
            lost += 1
            if committing and xid is not None:
                if commit_outcome(pool, xid, deadline) == "committed":
                    return result
            # Always one fresh try: the connection may just have been idle too long.
            if lost > 1 and time.monotonic() >= deadline:
                raise DatabaseUnavailable(f"connection lost: {first_line(e)}") from None
        except BaseException:
            pool.give_back(conn)
            raise


def commit_outcome(pool, xid, deadline):
    """'committed' or 'aborted': what became of transaction xid, whose
    COMMIT lost its connection. Raises DatabaseUnavailable when it cannot be
    learned by the deadline (the one case a write's outcome stays unknown)."""
    while True:
        try:
            conn = pool.acquire()
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT txid_status(%s)", (xid,))
                    status = cur.fetchone()[0]
                conn.commit()
                pool.release(conn)
            except psycopg2.Error:
                pool.discard(conn)
                raise
            if status in ("committed", "aborted"):
                return status
            # "in progress": the ended session is still finishing its COMMIT.
        except (psycopg2.OperationalError, psycopg2.InterfaceError, CannotConnect):
            pass
        if time.monotonic() >= deadline:
            raise DatabaseUnavailable(
                f"connection lost during COMMIT of transaction {xid}, and whether it "
                "committed could not be learned in time")
        time.sleep(0.05)


def ensure_schema(pool):
    """Creates the tables when missing. Existing ones are left alone without
    running DDL at all, so a read-only database (a source after cutover) does
    not stop the app from starting."""
    def work(cur):
        cur.execute("SELECT to_regclass('customers') IS NOT NULL AND "
                    "to_regclass('orders') IS NOT NULL AND "
                    "to_regclass('orders_customer_id') IS NOT NULL")
        if cur.fetchone()[0]:
            return
        # Two apps starting at once on an empty database would race on
        # CREATE ... IF NOT EXISTS (a unique violation in the catalog).
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('shop_app schema'))")
        for statement in SCHEMA:
            cur.execute(statement)
    in_transaction(pool, work, retry_s=0)  # connect_when_up does the waiting


def seed(pool, customers):
    """Loads customers c1..cN (the ids load.py's users take), with 1-5 orders
    each, generated inside the server in one statement: tens of thousands of
    rows in about a second, without shipping them over the wire. Customers
    already there are kept, with their orders, so seeding twice adds nothing."""
    def work(cur):
        cur.execute(
            """WITH items AS (SELECT %(items)s::text[] AS list),
                    new AS (
                      INSERT INTO customers (id, name, visits)
                      SELECT 'c' || g, 'Customer c' || g, 0 FROM generate_series(1, %(n)s) g
                      ON CONFLICT (id) DO NOTHING
                      RETURNING id)
               INSERT INTO orders (customer_id, item, price, created_at)
               SELECT new.id,
                      list[1 + (abs(hashtext(new.id)) + k) %% cardinality(list)],
                      round((1 + (abs(hashtext(new.id || k)) %% 9900) / 100.0)::numeric, 2),
                      now() - make_interval(mins => (abs(hashtext(new.id)) %% 100000) + k)
               FROM new, items,
                    generate_series(1, 1 + abs(hashtext(new.id)) %% 5) k""",
            {"items": ITEMS, "n": customers})
        orders = cur.rowcount
        cur.execute("SELECT count(*) FROM customers")
        return orders, cur.fetchone()[0]
    return in_transaction(pool, work)


def customer_with_orders(cur, customer_id):
    cur.execute("SELECT id, name, visits FROM customers WHERE id = %s", (customer_id,))
    row = cur.fetchone()
    if row is None:
        return None
    cur.execute("SELECT id, item, price, created_at FROM orders WHERE customer_id = %s "
                "ORDER BY created_at DESC, id DESC LIMIT 5", (customer_id,))
    return {"id": row[0], "name": row[1], "visits": row[2],
            "orders": [order_json(o) for o in cur.fetchall()]}


def order_json(row):
    order_id, item, price, created_at = row
    return {"id": order_id, "item": item, "price": float(price),
            "created_at": created_at.isoformat()}


def place_order(cur, customer_id, item, price):
    # The first order creates the customer; every order counts a visit.
    cur.execute("""INSERT INTO customers (id, name, visits) VALUES (%s, %s, 1)
                   ON CONFLICT (id) DO UPDATE SET visits = customers.visits + 1
                   RETURNING visits""", (customer_id, "Customer " + customer_id))
    visits = cur.fetchone()[0]
    cur.execute("INSERT INTO orders (customer_id, item, price) VALUES (%s, %s, %s) "
                "RETURNING id, item, price, created_at", (customer_id, item, price))
    return dict(order_json(cur.fetchone()), customer_id=customer_id, visits=visits)


# --- the HTTP side -----------------------------------------------------------

def parse_faults(text):
    """$SHOP_FAULTS: "error_rate=0.05,slow_ms=300" -> {"error_rate": 0.05, "slow_ms": 300}."""
    faults = {"error_rate": 0.0, "slow_ms": 0}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        key = key.strip()
        if key not in faults:
            raise ValueError(f"unknown fault '{key}' (faults: error_rate, slow_ms)")
        try:
            number = float(value) if key == "error_rate" else int(value)
        except ValueError:
            raise ValueError(f"{key}={value!r} is not a number") from None
        if key == "error_rate" and not 0 <= number <= 1:
            raise ValueError(f"error_rate={value} is not between 0 and 1")
        if key == "slow_ms" and number < 0:
            raise ValueError(f"slow_ms={value} is negative")
        faults[key] = number
    return faults


class HttpError(Exception):
    def __init__(self, status, message, retry_after=None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class ShopHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive, so the proxy can reuse its upstream connections;
    # every answer therefore carries a Content-Length.
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle kept-alive connection frees its thread after this
    # The head and the body go out in two writes; with Nagle's algorithm the
    # second waits for the peer's delayed ACK, 40 ms on every kept-alive answer.
    disable_nagle_algorithm = True

    def do_GET(self):
        self.handle_request("GET")

    def do_POST(self):
        self.handle_request("POST")

    def do_PUT(self):
        self.handle_request("PUT")

    def do_DELETE(self):
        self.handle_request("DELETE")

    def handle_request(self, method):
        app = self.server.app
        with app.in_flight:
            try:
                body = self.read_body()
                path = self.path.split("?", 1)[0]
                if path.startswith("/api/"):
                    app.inject_faults()
                status, payload = app.route(method, path, body)
                self.answer(status, payload)
            except HttpError as e:
                self.answer(e.status, {"error": str(e)}, e.retry_after)
            except Exception as e:  # a bug, or a database error nobody foresaw
                self.log_error("%s %s: %s", method, self.path, first_line(e))
                self.answer(500, {"error": f"internal error: {first_line(e)}"})

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True  # the unread body would be taken for the next request
            raise HttpError(411, "send the body with a Content-Length")
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def answer(self, status, payload, retry_after=None):
        app = self.server.app
        payload.setdefault("served_by", app.version)
        data = (json.dumps(payload) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Served-By", app.version)
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.end_headers()
        self.wfile.write(data)

    def version_string(self):
        return f"shop_app/1 ({self.server.app.version})"

    def log_message(self, format, *args):
        if self.server.app.access_log:
            super().log_message(format, *args)

    def log_error(self, format, *args):
        super().log_message(format, *args)  # errors always go to stderr


class ShopServer(ThreadingHTTPServer):
    # socketserver's default backlog of 5 overflows when a load's users
    # connect at once: Linux then drops their SYNs (a 1 s retransmit) or
    # resets them.
    request_queue_size = 128
    daemon_threads = True  # kept-alive idle connections must not hold up exit


class InFlight:
    """Counts requests being answered, so a SIGTERM can let them finish."""

    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()

    def __enter__(self):
        with self._lock:
            self.count += 1

    def __exit__(self, *exc):
        with self._lock:
            self.count -= 1


class ShopApp:
    def __init__(self, pool, version, faults, access_log, retry_s):
        self.pool = pool
        self.retry_s = retry_s
        self.version = version
        self.faults = faults
        self.access_log = access_log
        self.in_flight = InFlight()

    def inject_faults(self):
        if self.faults["slow_ms"]:
            time.sleep(self.faults["slow_ms"] / 1000)
        if random.random() < self.faults["error_rate"]:
            raise HttpError(500, f"injected fault (SHOP_FAULTS error_rate="
                                 f"{self.faults['error_rate']:g})")

    def route(self, method, path, body):
        """(status, JSON object) for a request, or an HttpError."""
        if path == "/health":
            allow(method, "GET")
            return self.health()
        match = re.fullmatch(r"/api/customers/([^/]+)(/orders)?", path)
        if not match:
            raise HttpError(404, f"no such path: {path}")
        customer_id = match.group(1)
        if not CUSTOMER_ID.fullmatch(customer_id):
            raise HttpError(400, "a customer id is 1-64 letters, digits, '-' or '_'")
        if match.group(2) is None:
            allow(method, "GET")
            return self.customer(customer_id)
        allow(method, "POST")
        item, price = parse_order(body)
        return 201, self.database(lambda cur: place_order(cur, customer_id, item, price))

    def customer(self, customer_id):
        found = self.database(lambda cur: customer_with_orders(cur, customer_id))
        if found is None:
            # Documented for load.py: a customer exists from its first order on.
            raise HttpError(404, f"no customer {customer_id}; POST an order to create it")
        return 200, found

    def health(self):
        def work(cur):
            cur.execute("SHOW transaction_read_only")
            return cur.fetchone()[0] == "on"
        try:
            # Quick and honest: a database that does not answer now is down now.
            read_only = self.database(work, wait_s=1.0, retry_s=0.5)
        except HttpError as e:
            return 503, {"status": "unavailable", "error": str(e)}
        return 200, {"status": "ok", "read_only": read_only}

    def database(self, work, wait_s=5.0, retry_s=None):
        """work(cursor) in a transaction, its failures turned into answers."""
        try:
            return in_transaction(self.pool, work, wait_s,
                                  self.retry_s if retry_s is None else retry_s)
        except ReadOnlyDatabase:
            raise HttpError(503, "the database is read-only (a cutover or maintenance is "
                                 "under way): writes are refused for now, reads still work; "
                                 "retry shortly", RETRY_AFTER_S) from None
        except DatabaseUnavailable as e:
            raise HttpError(503, f"database unavailable: {e}", RETRY_AFTER_S) from None


def allow(method, allowed):
    if method != allowed:
        raise HttpError(405, f"{method} is not allowed here (allowed: {allowed})")


def parse_order(body):
    try:
        order = json.loads(body or b"null")
    except ValueError:
        raise HttpError(400, 'the body is not JSON; send {"item": "...", "price": 12.5}') from None
    if not isinstance(order, dict):
        raise HttpError(400, 'send a JSON object: {"item": "...", "price": 12.5}')
    item, price = order.get("item"), order.get("price")
    if not isinstance(item, str) or not 1 <= len(item) <= 200:
        raise HttpError(400, "item: a string of 1-200 characters")
    if isinstance(price, bool) or not isinstance(price, (int, float, str)):
        raise HttpError(400, "price: a number")
    try:
        price = Decimal(str(price)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise HttpError(400, f"price: {price!r} is not a number") from None
    if not price.is_finite() or not Decimal(0) <= price < Decimal("100000000"):
        raise HttpError(400, "price: from 0 to 99999999.99")
    return item, price


# --- start and stop ----------------------------------------------------------

def connect_when_up(pool, dsn, wait_s):
    """Waits for the database (it may still be starting) and creates the schema."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            ensure_schema(pool)
            return
        except DatabaseUnavailable as e:
            if time.monotonic() >= deadline:
                sys.exit(f"shop_app: database {redact(dsn)} did not answer within "
                         f"{wait_s:g} s: {e}")
            time.sleep(0.5)
        except psycopg2.Error as e:
            sys.exit(f"shop_app: cannot create the schema in {redact(dsn)}: {first_line(e)}")


def main():
    parser = argparse.ArgumentParser(
        description="The demo's sample shop service (database URI in $SHOP_DB).")
    parser.add_argument("--port", type=int, help="serve HTTP on this port")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--version", choices=["legacy", "modern"], default="legacy",
                        help="the version this instance says it is (X-Served-By)")
    parser.add_argument("--seed", type=int, metavar="N",
                        help="load customers c1..cN with a few orders each, then exit")
    parser.add_argument("--pool", type=int, default=8, help="database connections at most (8)")
    parser.add_argument("--wait", type=float, default=30,
                        help="seconds to wait for the database at start (30)")
    parser.add_argument("--retry-for", type=float, default=5, metavar="SECONDS",
                        help="how long a request waits for a database that refuses "
                             "connections (restarting) before answering 503 (5)")
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")
    args = parser.parse_args()
    if (args.port is None) == (args.seed is None):
        parser.error("give --port (serve) or --seed N (load sample data)")

    dsn_file = os.environ.get("SHOP_DB_FILE")
    dsn = os.environ.get("SHOP_DB")
    if dsn_file:
        try:
            with open(dsn_file) as f:
                dsn = f.read().strip()
        except OSError as e:
            parser.error(f"SHOP_DB_FILE: {e}")
    if not dsn:
        parser.error("set SHOP_DB to the database URI, or SHOP_DB_FILE to a file holding it "
                     "(it is never taken from the command line)")
    try:
        faults = parse_faults(os.environ.get("SHOP_FAULTS", ""))
    except ValueError as e:
        parser.error(f"SHOP_FAULTS: {e}")

    pool = ConnectionPool(dsn, args.pool, dsn_file=dsn_file)
    connect_when_up(pool, dsn, args.wait)

    if args.seed is not None:
        started = time.monotonic()
        try:
            orders, customers = seed(pool, args.seed)
        except (psycopg2.Error, DatabaseUnavailable, ReadOnlyDatabase) as e:
            sys.exit(f"shop_app: seeding {redact(dsn)} failed: {first_line(e) or 'read-only'}")
        print(f"shop_app: seeded {redact(dsn)}: {customers} customers, {orders} new orders "
              f"in {time.monotonic() - started:.1f} s")
        return

    server = ShopServer((args.host, args.port), ShopHandler)
    server.app = ShopApp(pool, args.version, faults, args.access_log, args.retry_for)

    def stop(signum, _frame):
        # shutdown() waits for serve_forever(), which runs on this very thread.
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    fault_note = f", faults {faults}" if faults["error_rate"] or faults["slow_ms"] else ""
    print(f"shop_app {args.version}: listening on {args.host}:{args.port}, database "
          f"{redact(pool.dsn())}{' (from ' + dsn_file + ')' if dsn_file else ''} "
          f"(pool {args.pool}){fault_note}", file=sys.stderr, flush=True)
    server.serve_forever()
    server.server_close()
    # Requests under way finish (up to 5 s); kept-alive idle connections just close.
    deadline = time.monotonic() + 5
    while server.app.in_flight.count and time.monotonic() < deadline:
        time.sleep(0.02)
    pool.close()
    print(f"shop_app {args.version}: stopped", file=sys.stderr)


if __name__ == "__main__":
    main()
