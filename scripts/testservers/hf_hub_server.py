#!/usr/bin/env python3
"""A stand-in for the Hugging Face Hub's file endpoint, for `git rag model pull` tests.

Serves ROOT/<org>/<name>/<path> at /<org>/<name>/resolve/main/<path> with HTTP Range support and,
for *.safetensors, the SHA-256 in an X-Linked-Etag header as the Hub does for LFS files.
  --wrong-digest      advertise a wrong SHA-256 (checksum-mismatch tests)
  --drop-after N      the first response for a *.safetensors file stops after N bytes
GET /__log returns the requests seen so far, one "METHOD PATH RANGE" line each.
Prints "LISTENING <port>" once bound.
"""
import argparse
import hashlib
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--root", required=True)
parser.add_argument("--wrong-digest", action="store_true")
parser.add_argument("--drop-after", type=int, default=-1)
args = parser.parse_args()

log = []
lock = threading.Lock()
dropped = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def do_HEAD(self):
        self.serve(body=False)

    def do_GET(self):
        if self.path == "/__log":
            with lock:
                data = ("\n".join(log) + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.serve(body=True)

    def serve(self, body):
        with lock:
            log.append(f"{self.command} {self.path} {self.headers.get('Range', '-')}")
        m = re.fullmatch(r"/([^/]+)/([^/]+)/resolve/main/(.+)", self.path)
        path = os.path.realpath(os.path.join(args.root, m.group(1), m.group(2), m.group(3))) if m else None
        if path is None or not path.startswith(os.path.realpath(args.root) + os.sep) or not os.path.isfile(path):
            self.send_error_body(404, b"Entry not found")
            return
        with open(path, "rb") as f:
            data = f.read()
        start, status = 0, 200
        rng = self.headers.get("Range")
        if rng:
            rm = re.fullmatch(r"bytes=(\d+)-", rng.strip())
            if not rm or int(rm.group(1)) >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, status = int(rm.group(1)), 206
        part = data[start:]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(part)))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        if path.endswith(".safetensors"):
            digest = hashlib.sha256(data).hexdigest()
            if args.wrong_digest:
                digest = "0" * 64
            self.send_header("X-Linked-Etag", f'"{digest}"')
        self.end_headers()
        if not body:
            return
        if path.endswith(".safetensors") and args.drop_after >= 0 and path not in dropped:
            dropped.add(path)
            self.wfile.write(part[: args.drop_after])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(part)

    def send_error_body(self, code, text):
        self.send_response(code)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


server = ThreadingHTTPServer((args.host, args.port), Handler)
print(f"LISTENING {server.server_address[1]}", flush=True)
server.serve_forever()
