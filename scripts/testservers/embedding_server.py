#!/usr/bin/env python3
"""An OpenAI-compatible embeddings server for tests and benchmarks (stdlib only).

POST /v1/embeddings  {"model": M, "input": [texts] | "text"}
    -> {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [...]}],
        "model": M, "usage": {"prompt_tokens": N, "total_tokens": N}}

Vectors are deterministic: block k of 16 components comes from sha256(f"{k}:{text}") read as
16 big-endian uint16 values u, each mapped to u / 32767.5 - 1; the vector is then L2-normalised.
Tests recompute the same vectors to check order and content.

POST /control     change behaviour at runtime (counters apply to the next N embedding requests):
    {"fail_next": N, "status": 429, "retry_after": 1}   (retry_after optional; a number of
                                                          seconds, or a string sent verbatim)
    {"hang_next": N, "hang_seconds": S}
    {"wrong_dimension_next": N}
    {"malformed_next": N}
    {"shuffle_next": N}                                  (data entries in reverse order)
    {"latency_ms": L}
    {"reset": true}                                      (clears all faults and the stats)
GET  /stats       {"texts_embedded", "requests", "succeeded_requests", "max_in_flight",
                   "batch_sizes": [...], "texts": [...last 2000 embedded texts]}
POST /stats/reset

With --tls-cert/--tls-key it speaks HTTPS.

Prints "LISTENING <port>" on stdout once bound.
"""

import argparse
import hashlib
import json
import math
import os
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from serving import serve

TEXT_HISTORY = 2000


def estimated_tokens(text):
    return (len(text.encode("utf-8")) + 3) // 4


def vector_for(text, dimension):
    values = []
    block = 0
    while len(values) < dimension:
        digest = hashlib.sha256(f"{block}:{text}".encode("utf-8")).digest()
        values.extend(u / 32767.5 - 1.0 for u in struct.unpack(">16H", digest))
        block += 1
    values = values[:dimension]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


class State:
    def __init__(self, dimension, latency_ms, api_key, ms_per_text=0.0):
        self.lock = threading.Lock()
        self.dimension = dimension
        self.ms_per_text = ms_per_text
        self.api_key = api_key
        self.default_latency_ms = latency_ms
        self.reset_faults()
        self.reset_stats()

    def reset_faults(self):
        self.latency_ms = self.default_latency_ms
        self.fail_next = 0
        self.fail_status = 500
        self.fail_retry_after = None
        self.hang_next = 0
        self.hang_seconds = 0.0
        self.wrong_dimension_next = 0
        self.malformed_next = 0
        self.shuffle_next = 0

    def reset_stats(self):
        self.texts_embedded = 0
        self.requests = 0
        self.succeeded_requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.batch_sizes = []
        self.texts = []

    def control(self, body):
        if body.get("reset"):
            self.reset_faults()
            self.reset_stats()
        if "fail_next" in body:
            self.fail_next = int(body["fail_next"])
            self.fail_status = int(body.get("status", 500))
            self.fail_retry_after = body.get("retry_after")
        if "hang_next" in body:
            self.hang_next = int(body["hang_next"])
            self.hang_seconds = float(body.get("hang_seconds", 30))
        if "wrong_dimension_next" in body:
            self.wrong_dimension_next = int(body["wrong_dimension_next"])
        if "malformed_next" in body:
            self.malformed_next = int(body["malformed_next"])
        if "shuffle_next" in body:
            self.shuffle_next = int(body["shuffle_next"])
        if "latency_ms" in body:
            self.latency_ms = float(body["latency_ms"])

    def stats(self):
        return {
            "texts_embedded": self.texts_embedded,
            "requests": self.requests,
            "succeeded_requests": self.succeeded_requests,
            "max_in_flight": self.max_in_flight,
            "batch_sizes": list(self.batch_sizes),
            "texts": list(self.texts),
        }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms on Linux) and swamps the latency we mean to simulate.
    disable_nagle_algorithm = True
    server_version = "embedding-test-server/1"

    def log_message(self, format, *args):
        pass

    @property
    def state(self):
        return self.server.state

    def send_json(self, status, payload, headers=None):
        self.send_raw(status, json.dumps(payload).encode("utf-8"), headers)

    def send_raw(self, status, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        if self.path == "/stats":
            with self.state.lock:
                payload = self.state.stats()
            self.send_json(200, payload)
        else:
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self):
        try:
            if self.path == "/control":
                body = json.loads(self.read_body() or b"{}")
                with self.state.lock:
                    self.state.control(body)
                self.send_json(200, {"ok": True})
            elif self.path == "/stats/reset":
                self.read_body()
                with self.state.lock:
                    self.state.reset_stats()
                self.send_json(200, {"ok": True})
            elif self.path.rstrip("/") == "/v1/embeddings":
                self.embeddings()
            else:
                self.read_body()
                self.send_json(404, {"error": {"message": f"no route {self.path}"}})
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test); nothing left to answer.
            self.close_connection = True

    def embeddings(self):
        state = self.state
        started = time.monotonic()
        raw = self.read_body()
        with state.lock:
            state.requests += 1
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            self.answer_embeddings(raw, started)
        finally:
            with state.lock:
                state.in_flight -= 1

    def answer_embeddings(self, raw, started):
        state = self.state
        if state.api_key is not None:
            presented = self.headers.get("Authorization", "")
            if presented != f"Bearer {state.api_key}":
                # Like real providers, echo (part of) what was presented: clients must not
                # copy it into their own messages.
                shown = presented[len("Bearer "):] if presented.startswith("Bearer ") else presented
                self.send_json(401, {"error": {"message": f"Incorrect API key provided: {shown}",
                                               "type": "invalid_request_error"}})
                return
        try:
            request = json.loads(raw)
            model = request["model"]
            inputs = request["input"]
            if isinstance(inputs, str):
                inputs = [inputs]
            if not isinstance(inputs, list) or not all(isinstance(t, str) for t in inputs):
                raise ValueError("input must be a string or a list of strings")
        except (ValueError, KeyError, TypeError) as error:
            self.send_json(400, {"error": {"message": f"bad request: {error}"}})
            return

        with state.lock:
            latency = (state.latency_ms + state.ms_per_text * len(inputs)) / 1000.0
            fault = None
            if state.hang_next > 0:
                state.hang_next -= 1
                fault = ("hang", state.hang_seconds)
            elif state.fail_next > 0:
                state.fail_next -= 1
                fault = ("fail", state.fail_status, state.fail_retry_after)
            elif state.malformed_next > 0:
                state.malformed_next -= 1
                fault = ("malformed",)
            wrong_dimension = False
            if fault is None and state.wrong_dimension_next > 0:
                state.wrong_dimension_next -= 1
                wrong_dimension = True
            shuffle = False
            if fault is None and state.shuffle_next > 0:
                state.shuffle_next -= 1
                shuffle = True
            dimension = state.dimension + (1 if wrong_dimension else 0)

        if fault:
            time.sleep(latency)
        if fault and fault[0] == "hang":
            time.sleep(fault[1])
            self.close_connection = True
            self.send_json(503, {"error": {"message": "hung request finally answered"}})
            return
        if fault and fault[0] == "fail":
            _, status, retry_after = fault
            headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
            self.send_json(status, {"error": {"message": f"injected failure {status}"}}, headers)
            return
        if fault and fault[0] == "malformed":
            self.send_raw(200, b'{"object": "list", "data": [{"object": "embedding", "ind')
            return

        # Written by hand: json.dumps spends most of its time on float repr. Nine significant
        # digits round-trip every float32, which is what clients keep.
        vector_format = "[" + ",".join(["%.9g"] * dimension) + "]"
        items = ['{"object":"embedding","index":%d,"embedding":%s}' % (i, vector_format % tuple(vector_for(t, dimension)))
                 for i, t in enumerate(inputs)]
        if shuffle:
            items.reverse()
        tokens = sum(estimated_tokens(t) for t in inputs)
        body = ('{"object":"list","data":[%s],"model":%s,"usage":{"prompt_tokens":%d,"total_tokens":%d}}'
                % (",".join(items), json.dumps(model), tokens, tokens)).encode("utf-8")
        # The latency is the server's whole time per request, like a model server whose
        # compute is the latency; our own JSON work must not add to it.
        remaining = started + latency - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
        self.send_raw(200, body)
        with state.lock:
            state.succeeded_requests += 1
            state.texts_embedded += len(inputs)
            state.batch_sizes.append(len(inputs))
            del state.batch_sizes[:-TEXT_HISTORY]
            state.texts.extend(inputs)
            del state.texts[:-TEXT_HISTORY]


class EmbeddingServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dimension", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=0,
                        help="least time the server takes per embedding request, its own work included")
    parser.add_argument("--ms-per-text", type=float, default=0,
                        help="more time per text embedded, like a model server's compute")
    parser.add_argument("--api-key-env", help="environment variable holding the expected API key")
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate chain")
    parser.add_argument("--tls-key", help="private key of --tls-cert")
    args = parser.parse_args()

    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            sys.exit(f"--api-key-env {args.api_key_env}: that variable is not set")

    server = EmbeddingServer((args.host, args.port), Handler)
    server.state = State(args.dimension, args.latency_ms, api_key, args.ms_per_text)
    serve(server, args.tls_cert, args.tls_key)


if __name__ == "__main__":
    main()
