#!/usr/bin/env python3
"""An HTTP server that misbehaves on request, for the HTTP transport's tests (stdlib only).

    http_fault_server.py [--host H] [--port P] [--tls-cert PEM --tls-key PEM]

Every request other than the two below takes the next step of the script set by POST /script
(a JSON list) and, once the script is used up, answers 200 with a JSON echo of the request
(method, path, headers, body). Steps:

    {"status": 503, "retry_after": "1", "body": "text"}   an answer (retry_after optional)
    {"hang": 5}                                              wait 5 s before reading on, then echo
    {"reset": true}                                          close the connection without a reply
    {"redirect": "/elsewhere", "headers": {"X-Linked-Etag": "abc"}}   302 with extra headers

POST /script   replaces the script and clears the log
GET  /log      {"requests": [{"method", "path", "time"}...]} of every scripted-path request

Prints "LISTENING <port>" on stdout once bound.
"""
import argparse, json, socket, ssl, struct, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from serving import serve

LOCK = threading.Lock()
SCRIPT = []
LOG = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/script" and self.command == "POST":
            with LOCK:
                SCRIPT[:] = json.loads(body)
                LOG.clear()
            return self.reply(200, "{}")
        if self.path == "/log":
            with LOCK:
                return self.reply(200, json.dumps({"requests": LOG}))
        with LOCK:
            LOG.append({"method": self.command, "path": self.path, "time": time.time()})
            step = SCRIPT.pop(0) if SCRIPT else {}
        if step.get("reset"):
            # SO_LINGER 0: the close sends a TCP reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if "hang" in step:
            time.sleep(step["hang"])
        if "redirect" in step:
            return self.reply(302, "", {"Location": step["redirect"], **step.get("headers", {})})
        if "status" in step:
            headers = {"Retry-After": str(step["retry_after"])} if "retry_after" in step else {}
            return self.reply(step["status"], step.get("body", ""), headers)
        echo = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                "body": body.decode("utf-8", "replace")}
        self.reply(200, json.dumps(echo), {"Content-Type": "application/json"})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate chain")
    parser.add_argument("--tls-key", help="private key of --tls-cert")
    args = parser.parse_args()
    serve(Server((args.host, args.port), Handler), args.tls_cert, args.tls_key)


if __name__ == "__main__":
    main()
