#!/usr/bin/env python3
"""A TCP relay to a PostgreSQL server that loses one COMMIT on demand, for
tests of what a client does when its connection dies in COMMIT:

    pg_cut_commit.py LISTEN_PORT SERVER_PORT ARM_FILE

relays 127.0.0.1:LISTEN_PORT to 127.0.0.1:SERVER_PORT byte for byte. While
ARM_FILE exists, the next COMMIT is cut, and the file removed (one shot):

  ARM_FILE says "before": the client's COMMIT is not sent on; the
                          connection closes, so the server rolls back;
  ARM_FILE says "after":  the server commits, but its answer is not sent
                          on; the connection closes, so the client cannot
                          know the transaction committed.

COMMIT is found in the protocol as the simple query 'Q' "COMMIT" (what
psycopg2 and psql send) and its answer CommandComplete 'C' "COMMIT". No
TLS: the throwaway servers refuse it, and clients then talk plainly.
"""
import os
import socket
import sys
import threading

LISTEN_PORT, SERVER_PORT, ARM_FILE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# Type byte, then length 4 + len("COMMIT\0") = 11, then the text.
COMMIT_QUERY = b"Q\x00\x00\x00\x0bCOMMIT\x00"
COMMIT_DONE = b"C\x00\x00\x00\x0bCOMMIT\x00"


def armed_for(mode):
    """True once, for the first COMMIT seen while ARM_FILE says `mode`."""
    try:
        with open(ARM_FILE) as f:
            if f.read().strip() != mode:
                return False
        os.remove(ARM_FILE)  # claims the one shot: a second remover fails
        return True
    except FileNotFoundError:
        return False


def pump(source, sink, pattern, mode, both):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            if pattern in data and armed_for(mode):
                print(f"pg_cut_commit: cut a COMMIT ({mode})", flush=True)
                break
            sink.sendall(data)
    except OSError:
        pass
    for s in both:  # either side gone: the whole connection ends
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def relay(client):
    server = socket.create_connection(("127.0.0.1", SERVER_PORT))
    both = (client, server)
    threading.Thread(target=pump, args=(client, server, COMMIT_QUERY, "before", both),
                     daemon=True).start()
    pump(server, client, COMMIT_DONE, "after", both)
    client.close()
    server.close()


def main():
    listener = socket.create_server(("127.0.0.1", LISTEN_PORT))
    print("ready", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=relay, args=(client,), daemon=True).start()


if __name__ == "__main__":
    main()
