#!/usr/bin/env python3
"""An HTTP/1.1 backend for ferry proxy's tests, written on raw sockets so it
can also misbehave on purpose. One process serves one address:

    http_backend.py PORT NAME

and prints "ready" once listening. What it answers depends on the path:

  /echo...          200, JSON: backend name, method, target, headers, body size and sha256,
                    and the port the request came from (one port: one upstream connection)
  /status/N         status N (no body for 1xx, 204, 304; a 304 with a Content-Length)
  /big/N            200 with N bytes (Content-Length), written in 64 KiB pieces
  /chunked/K/S      200 chunked: K chunks of S bytes, then a trailer
  /json/USER        200, a JSON document about USER that is the same from every backend but
                    for its "generated_at" time, its "request_id" and each item's "etag"
                    (fresh on every answer) and the items' "price" ($BACKEND_PRICE, 10);
                    with a Set-Cookie header
  /until-close/N    200 without framing: N bytes, then the connection closes
  /slow/MS          waits MS milliseconds, then answers like /echo
  /reset            closes the connection with a reset, answering nothing
  /close-mid        promises 1000 bytes, sends 10, closes
  /never            reads the request and never answers
  /health           200, or 503 while the file in $BACKEND_DOWN_FILE exists
  /ws               an Upgrade: 101, then echoes every byte back (a tunnel); once the
                    client has half-closed, waits 200 ms, sends "end of tunnel" and closes
  /garbage/KIND     a broken response head: not-http (no status line), two-lengths
                    (two different Content-Lengths), huge-head (a 1 MiB header)
  /continue         with Expect: 100-continue sends 100 Continue before reading the body
  /requests         200, JSON: how many requests this backend has read, other than
                    /health and /requests (a test asks it directly: did anything get here?)
While the file in $BACKEND_FAIL_FILE exists, every request but /health and /requests is
answered by what it says instead: a status ("500": that status, the body naming
the backend), or "slow MS" (waits MS milliseconds first, then answers as usual).
Tests create, change and remove the file to make a backend fail and recover.
Request bodies (Content-Length or chunked) are always read whole.
"""
import asyncio
import hashlib
import json
import os
import socket
import struct
import sys
import time

PORT = int(sys.argv[1])
NAME = sys.argv[2]
REQUESTS = 0  # every request head read, but /health and /requests


async def read_head(reader):
    data = await reader.readuntil(b"\r\n\r\n")
    lines = data.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        if line:
            name, value = line.split(":", 1)
            headers.append((name, value.strip()))
    return method, target, version, headers


def header(headers, name):
    for n, v in headers:
        if n.lower() == name.lower():
            return v
    return None


async def read_body(reader, headers):
    te = header(headers, "transfer-encoding")
    if te and te.lower() == "chunked":
        body = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return body
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    length = int(header(headers, "content-length") or 0)
    return await reader.readexactly(length) if length else b""


def response(status, body=b"", extra=()):
    head = f"HTTP/1.1 {status} X\r\n"
    for name, value in extra:
        head += f"{name}: {value}\r\n"
    # A 304 carries the Content-Length the full response would have, as real
    # servers send it; there is still no body.
    if status >= 200 and status != 204:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + (body if status >= 200 and status not in (204, 304) else b"")


def echo(method, target, headers, body, peer_port=0):
    return json.dumps({
        "backend": NAME, "method": method, "target": target, "peer_port": peer_port,
        "headers": [[n, v] for n, v in headers],
        "body_bytes": len(body), "body_sha256": hashlib.sha256(body).hexdigest(),
    }).encode()


def fail_mode():
    """The words of $BACKEND_FAIL_FILE, or None while it does not exist."""
    path = os.environ.get("BACKEND_FAIL_FILE")
    if not path:
        return None
    try:
        with open(path) as f:
            words = f.read().split()
    except FileNotFoundError:
        return None
    return words or ["500"]


async def serve(reader, writer):
    global REQUESTS
    sock = writer.get_extra_info("socket")
    try:
        while True:
            try:
                method, target, version, headers = await read_head(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            path = target.split("?")[0]
            if path not in ("/health", "/requests"):
                REQUESTS += 1
            if path == "/continue" and (header(headers, "expect") or "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await writer.drain()
            if path == "/reset":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            if path == "/never":
                await asyncio.sleep(3600)
            body = await read_body(reader, headers)
            parts = path.strip("/").split("/")
            failing = fail_mode() if parts[0] not in ("health", "requests") else None
            if failing and failing[0] == "slow":
                await asyncio.sleep(int(failing[1]) / 1000)
            elif failing:
                writer.write(response(int(failing[0]), f"{NAME} failing".encode(),
                                      [("X-Backend", NAME)]))
                await writer.drain()
                if (header(headers, "connection") or "").lower() == "close":
                    writer.close()
                    return
                continue
            if parts[0] == "status":
                writer.write(response(int(parts[1]), b"status body"))
            elif parts[0] == "big":
                n = int(parts[1])
                writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n".encode())
                piece = bytes(range(256)) * 256
                while n > 0:
                    writer.write(piece[: min(n, len(piece))])
                    n -= min(n, len(piece))
                    await writer.drain()
            elif parts[0] == "chunked":
                count, size = int(parts[1]), int(parts[2])
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n")
                for i in range(count):
                    writer.write(f"{size:x}\r\n".encode() + bytes([65 + i % 26]) * size + b"\r\n")
                    await writer.drain()
                writer.write(b"0\r\nX-Sum: done\r\n\r\n")
            elif parts[0] == "json":
                price = float(os.environ.get("BACKEND_PRICE", "10"))
                doc = {"user": parts[1] if len(parts) > 1 else "", "generated_at": time.time(),
                       "request_id": os.urandom(8).hex(),
                       "items": [{"sku": sku, "price": price, "etag": os.urandom(4).hex()}
                                 for sku in ("apple", "pear")]}
                writer.write(response(200, json.dumps(doc).encode(),
                                      [("Content-Type", "application/json"),
                                       ("Set-Cookie", "session=" + os.urandom(4).hex())]))
            elif parts[0] == "until-close":
                writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"u" * int(parts[1]))
                await writer.drain()
                writer.close()
                return
            elif parts[0] == "close-mid":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
                await writer.drain()
                writer.close()
                return
            elif parts[0] == "garbage":
                writer.write({
                    "not-http": b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
                    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                   b"Content-Length: 6\r\n\r\nabcdef",
                    "huge-head": b"HTTP/1.1 200 OK\r\nX-Huge: " + b"h" * (1 << 20) +
                                 b"\r\nContent-Length: 2\r\n\r\nok",
                }.get(parts[1], response(404, b"no such garbage")))
            elif parts[0] == "slow":
                await asyncio.sleep(int(parts[1]) / 1000)
                writer.write(response(200, echo(method, target, headers, body)))
            elif parts[0] == "requests":
                writer.write(response(200, json.dumps({"backend": NAME, "requests": REQUESTS}).encode()))
            elif parts[0] == "health":
                down = os.environ.get("BACKEND_DOWN_FILE")
                writer.write(response(503 if down and os.path.exists(down) else 200, NAME.encode()))
            elif parts[0] == "ws":
                writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             b"Connection: Upgrade\r\n\r\n")
                await writer.drain()
                while True:
                    data = await reader.read(65536)
                    if not data:
                        # Still writing after the client's half-close: a proxy that
                        # closed the whole tunnel on it loses these bytes.
                        await asyncio.sleep(0.2)
                        writer.write(b"end of tunnel")
                        await writer.drain()
                        writer.close()
                        return
                    writer.write(data)
                    await writer.drain()
            else:
                extra = [("X-Backend", NAME)]
                if method == "HEAD":
                    payload = echo(method, target, headers, body)
                    writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(payload)}\r\n\r\n".encode())
                else:
                    peer_port = writer.get_extra_info("peername")[1]
                    writer.write(response(200, echo(method, target, headers, body, peer_port),
                                          extra))
            await writer.drain()
            if (header(headers, "connection") or "").lower() == "close":
                writer.close()
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        pass


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", PORT, limit=1 << 20)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
