#!/usr/bin/env python3
"""Opens N keep-alive connections to a proxy, sends one request on each and
reads its response, then holds them all idle until stdin closes.

usage: idle_clients.py PORT N
Prints "ready N" on stdout once every connection has had its answer, so the
caller can measure the proxy while the connections sit idle.
"""
import asyncio
import sys

REQUEST = b"GET /idle HTTP/1.1\r\nHost: bench\r\n\r\n"


async def one(port, held):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(REQUEST)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
    held.append(writer)


async def main(port, n):
    held = []
    # Open in batches so the listen backlog never overflows.
    for start in range(0, n, 500):
        await asyncio.gather(*(one(port, held) for _ in range(start, min(n, start + 500))))
    print(f"ready {len(held)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for w in held:
        w.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
