#!/usr/bin/env python3
"""A TCP server that never answers, for testing connect and idle deadlines.

--mode silent: accepts every connection and never sends a byte (a hung server).
--mode full: never accepts, and fills its accept queue first, so that new connections stay in
SYN_SENT (a server that cannot be reached, on loopback).

Prints "LISTENING <port>" on stdout once ready.
"""
import argparse
import socket
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", choices=["silent", "full"], default="silent")
    args = parser.parse_args()
    server = socket.socket()
    server.bind((args.host, args.port))
    if args.mode == "silent":
        server.listen(64)
        print(f"LISTENING {server.getsockname()[1]}", flush=True)
        held = []
        while True:
            connection, _ = server.accept()
            held.append(connection)
    server.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(server.getsockname())
        fillers.append(filler)
    # The kernel takes the fillers' handshakes at once; wait until the queue is visibly full.
    probe_deadline = time.monotonic() + 5
    while time.monotonic() < probe_deadline:
        probe = socket.socket()
        probe.settimeout(0.3)
        try:
            probe.connect(server.getsockname())
            fillers.append(probe)
        except OSError:
            break
    print(f"LISTENING {server.getsockname()[1]}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
