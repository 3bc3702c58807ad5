#!/usr/bin/env python3
"""A git smart-HTTP server for tests (stdlib only): `git http-backend` run as CGI.

    git_http_server.py --host 127.0.0.1 --port 0 --root DIR [--private-prefix private]

Serves every repository under DIR (GIT_PROJECT_ROOT, GIT_HTTP_EXPORT_ALL). Paths that start
with /<private-prefix>/ need HTTP basic auth whose password equals the environment variable
GIT_HTTP_TEST_TOKEN (any user name; the user name sent is recorded). The token is taken from the
environment, not argv, and is never printed.

GET /_stats -> {"requests": N, "unauthorized": N, "users": [...], "authorized": N}

Prints "LISTENING <port>" on stdout once bound.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from serving import serve

STATS = {"requests": 0, "unauthorized": 0, "authorized": 0, "users": []}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    root = "."
    private_prefix = "private"
    token = ""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                body = json.dumps(STATS).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.serve()

    def do_POST(self):
        self.serve()

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def authorized(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except Exception:
            return None
        return user if self.token and password == self.token else None

    def serve(self):
        with LOCK:
            STATS["requests"] += 1
        path, _, query = self.path.partition("?")
        user = None
        if path.startswith("/" + self.private_prefix + "/"):
            user = self.authorized()
            if user is None:
                with LOCK:
                    STATS["unauthorized"] += 1
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with LOCK:
                STATS["authorized"] += 1
                STATS["users"].append(user)
        body = self.read_body()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": self.root,
        }
        if user:
            env["REMOTE_USER"] = user
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        result = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = result.stdout.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name.strip(), value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--root", required=True)
    parser.add_argument("--private-prefix", default="private")
    args = parser.parse_args()
    Handler.root = os.path.abspath(args.root)
    Handler.private_prefix = args.private_prefix
    Handler.token = os.environ.get("GIT_HTTP_TEST_TOKEN", "")
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    serve(server)


if __name__ == "__main__":
    sys.exit(main())
