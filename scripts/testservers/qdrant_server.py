#!/usr/bin/env python3
"""A Qdrant-compatible REST server for tests, built from Qdrant's own official parts.

Every request body is validated against the official request models of `qdrant-client`
(pydantic models in `qdrant_client.http.models`, which are generated from Qdrant's OpenAPI
spec), executed on qdrant-client's local engine (`QdrantClient(":memory:")` or `path=`), and
answered in the real server's envelope with its status codes. Every reply is validated against
the official response model of its endpoint before it is sent.

Only the endpoints git-rag uses are served (see docs/qdrant-test-server.md), plus two test
hooks: `POST /__control` (fault injection) and `GET /__stats` (request counts and server seconds per route).

Usage: qdrant_server.py --host 127.0.0.1 --port 0 [--version 1.16.3] [--api-key-env NAME]
       [--read-only-api-key-env NAME] [--storage DIR] [--tls-cert PEM --tls-key PEM]
Prints `LISTENING <port>` once it accepts connections.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from pydantic import TypeAdapter, ValidationError
from qdrant_client import QdrantClient
from qdrant_client.http import models as m
from serving import serve

# The local engine warns that payload indexes do nothing; that is documented, not news per request.
warnings.filterwarnings("ignore", category=UserWarning)

POINT_INSERT = TypeAdapter(m.PointInsertOperations)
POINTS_SELECTOR = TypeAdapter(m.PointsSelector)


class HTTPError(Exception):
    """An error reply: status code plus the text for `{"status": {"error": text}}`."""

    def __init__(self, status: int, text: str, plain: bool = False, headers: dict[str, str] | None = None):
        super().__init__(text)
        self.status = status
        self.text = text
        self.plain = plain
        self.headers = headers or {}


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


class QdrantEmulator:
    """Routes, validation and the local engine; thread-safe through one lock."""

    def __init__(self, version: str, api_key: str | None, read_only_key: str | None, storage: str | None):
        self.version = version
        self.supports_metadata = parse_version(version) >= (1, 16, 0)
        self.api_key = api_key
        self.read_only_key = read_only_key
        self.engine = QdrantClient(path=storage) if storage else QdrantClient(":memory:")
        self.lock = threading.Lock()
        self.stats: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.faults: list[dict[str, Any]] = []
        # The local engine accepts payload indexes but does not list them; a real server does.
        self.indexes: dict[str, dict[str, Any]] = {}
        self.routes: list[tuple[str, re.Pattern[str], str, Callable[..., Any], type | None, bool, bool]] = []
        self._register()

    # MARK: routing

    def _register(self) -> None:
        c = r"/collections/(?P<c>[^/]+)"
        add = self._add
        add("GET", r"/", "GET /", self.root, m.VersionInfo, envelope=False)
        add("GET", r"/collections", "GET /collections", self.list_collections, m.InlineResponse2006)
        add("GET", c, "GET /collections/{c}", self.get_collection, m.InlineResponse2007)
        add("GET", c + r"/exists", "GET /collections/{c}/exists", self.exists, m.InlineResponse2009)
        add("PUT", c, "PUT /collections/{c}", self.create_collection, m.InlineResponse2001, write=True)
        add("PATCH", c, "PATCH /collections/{c}", self.update_collection, m.InlineResponse2001, write=True)
        add("DELETE", c, "DELETE /collections/{c}", self.delete_collection, m.InlineResponse2001, write=True)
        add("PUT", c + r"/index", "PUT /collections/{c}/index", self.create_index, m.InlineResponse2008, write=True)
        add("PUT", c + r"/points", "PUT /collections/{c}/points", self.upsert, m.InlineResponse2008, write=True)
        add("POST", c + r"/points", "POST /collections/{c}/points", self.retrieve, m.InlineResponse20017)
        add("POST", c + r"/points/delete", "POST /collections/{c}/points/delete", self.delete_points, m.InlineResponse2008, write=True)
        add("POST", c + r"/points/payload", "POST /collections/{c}/points/payload", self.set_payload, m.InlineResponse2008, write=True)
        add("POST", c + r"/points/scroll", "POST /collections/{c}/points/scroll", self.scroll, m.InlineResponse20019)
        add("POST", c + r"/points/count", "POST /collections/{c}/points/count", self.count, m.InlineResponse20020)
        add("POST", c + r"/points/query", "POST /collections/{c}/points/query", self.query, m.InlineResponse20022)

    def _add(self, method: str, pattern: str, name: str, handler: Callable[..., Any], model: type | None,
             envelope: bool = True, write: bool = False) -> None:
        self.routes.append((method, re.compile("^" + pattern + "$"), name, handler, model, envelope, write))

    def match(self, method: str, path: str):
        for route in self.routes:
            if route[0] == method:
                found = route[1].match(path)
                if found:
                    return route, found.groupdict()
        return None, {}

    # MARK: request handling

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Returns (status, headers, body) for one request; its time is added to the route's seconds."""
        started = time.perf_counter()
        reply = self._handle(method, raw_path, headers, body, started)
        route, _ = self.match(method, urlsplit(raw_path).path.rstrip("/") or "/")
        if route is not None:
            with self.lock:
                self.seconds[route[2]] = self.seconds.get(route[2], 0.0) + time.perf_counter() - started
        return reply

    def _handle(self, method: str, raw_path: str, headers: Any, body: bytes, started: float) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}

        if path == "/__stats" and method == "GET":
            with self.lock:
                stats = {"requests": dict(self.stats), "total": sum(self.stats.values()),
                         "seconds": {name: round(value, 6) for name, value in self.seconds.items()}}
                return 200, {}, json.dumps(stats).encode()
        if path == "/__control" and method == "POST":
            return self.control(body)

        route, params = self.match(method, path)
        name = route[2] if route else f"{method} {path}"
        with self.lock:
            self.stats[name] = self.stats.get(name, 0) + 1
            fault = self._take_fault()
        if fault is not None:
            if fault.get("delay"):
                time.sleep(float(fault["delay"]))
            if fault.get("drop"):
                return -1, {}, b""
            status = int(fault.get("status", 0))
            if status:
                extra = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
                return self._error(HTTPError(status, f"Injected failure (HTTP {status})", headers=extra), started)

        try:
            if route is None:
                raise HTTPError(404, f"Not found: no route for {method} {path}")
            _, _, _, handler, model, envelope, write = route
            self._authorize(path, headers, write)
            payload = None
            if method in ("PUT", "POST", "PATCH"):
                try:
                    payload = json.loads(body.decode("utf-8")) if body.strip() else None
                except (UnicodeDecodeError, json.JSONDecodeError) as error:
                    raise HTTPError(400, f"Format error in JSON body: {error}")
            with self.lock:
                result = handler(payload=payload, query=query, **params)
            if not envelope:
                reply = result
            else:
                reply = {"result": result, "status": "ok", "time": round(time.perf_counter() - started, 6)}
            if model is not None:
                # The reply must be what a real server could send: check it with the official model.
                model.model_validate(reply)
            return 200, {}, json.dumps(reply).encode()
        except HTTPError as error:
            return self._error(error, started)
        except ValidationError as error:
            return self._error(HTTPError(400, "Format error in JSON body: " + _validation_text(error)), started)
        except ValueError as error:
            return self._error(self._engine_error(str(error)), started)
        except Exception as error:  # noqa: BLE001 - a real server answers 500, it does not hang up
            return self._error(HTTPError(500, f"Service internal error: {type(error).__name__}: {error}"), started)

    def _error(self, error: HTTPError, started: float) -> tuple[int, dict[str, str], bytes]:
        if error.plain:
            return error.status, {"Content-Type": "text/plain", **error.headers}, error.text.encode()
        body = {"status": {"error": error.text}, "time": round(time.perf_counter() - started, 6)}
        m.ErrorResponse.model_validate(body)
        return error.status, error.headers, json.dumps(body).encode()

    @staticmethod
    def _engine_error(text: str) -> HTTPError:
        found = re.match(r"Collection (.+) not found", text)
        if found:
            return HTTPError(404, f"Not found: Collection `{found.group(1)}` doesn't exist!")
        if not text.startswith("Wrong input"):
            text = "Wrong input: " + text
        return HTTPError(400, text)

    def _authorize(self, path: str, headers: Any, write: bool) -> None:
        if self.api_key is None and self.read_only_key is None:
            return
        # Like the real server: the root and health endpoints need no key.
        if path in ("/", "/healthz", "/livez", "/readyz"):
            return
        key = headers.get("api-key")
        auth = headers.get("Authorization", "")
        if key is None and auth.lower().startswith("bearer "):
            key = auth[7:].strip()
        if key is None:
            raise HTTPError(401, "Must provide an API key or an Authorization bearer token", plain=True)
        if self.api_key is not None and key == self.api_key:
            return
        if self.read_only_key is not None and key == self.read_only_key:
            if write:
                raise HTTPError(403, "Forbidden: Write access is required", plain=False)
            return
        raise HTTPError(401, "Invalid API key or JWT", plain=True)

    def _take_fault(self) -> dict[str, Any] | None:
        while self.faults:
            fault = self.faults[0]
            if fault["remaining"] <= 0:
                self.faults.pop(0)
                continue
            fault["remaining"] -= 1
            return fault
        return None

    def control(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            command = json.loads(body or b"{}")
        except json.JSONDecodeError as error:
            return 400, {}, json.dumps({"error": str(error)}).encode()
        with self.lock:
            if command.get("reset"):
                self.faults.clear()
                self.stats.clear()
                self.seconds.clear()
            if "fail_next" in command:
                fault = {"remaining": int(command["fail_next"]), "status": int(command.get("status", 500))}
                if "retry_after" in command:
                    fault["retry_after"] = command["retry_after"]
                if command.get("drop"):
                    fault["drop"] = True
                if "delay" in command:
                    fault["delay"] = float(command["delay"])
                self.faults.append(fault)
            if "delay_next" in command:
                self.faults.append({"remaining": int(command["delay_next"]), "delay": float(command.get("delay", 1))})
        return 200, {}, json.dumps({"ok": True}).encode()

    # MARK: endpoints

    def _collection(self, name: str):
        if not self.engine.collection_exists(name):
            raise HTTPError(404, f"Not found: Collection `{name}` doesn't exist!")

    def _reject_metadata(self, payload: Any, model: str) -> None:
        if not self.supports_metadata and isinstance(payload, dict) and "metadata" in payload:
            raise HTTPError(400, f"Format error in JSON body: unknown field `metadata` in {model} "
                                 f"(this server reports version {self.version}; collection metadata needs 1.16)")

    @staticmethod
    def _updated() -> dict[str, Any]:
        # The local engine is synchronous, so every write has completed when it returns (wait=true).
        return {"operation_id": 0, "status": "completed"}

    def root(self, payload: Any, query: dict[str, str]) -> dict[str, Any]:
        return {"title": "qdrant - vector search engine", "version": self.version, "commit": None}

    def list_collections(self, payload: Any, query: dict[str, str]) -> dict[str, Any]:
        names = [description.name for description in self.engine.get_collections().collections]
        return {"collections": [{"name": name} for name in names]}

    def get_collection(self, payload: Any, query: dict[str, str], c: str) -> dict[str, Any]:
        self._collection(c)
        info = self.engine.get_collection(c).model_dump(mode="json", exclude_none=True)
        if not self.supports_metadata:
            info.get("config", {}).pop("metadata", None)
        schema = info.setdefault("payload_schema", {})
        for field, field_schema in self.indexes.get(c, {}).items():
            if field not in schema:
                data_type = field_schema if isinstance(field_schema, str) else field_schema.get("type")
                schema[field] = {"data_type": data_type, "points": info.get("points_count", 0)}
        return info

    def exists(self, payload: Any, query: dict[str, str], c: str) -> dict[str, Any]:
        return {"exists": self.engine.collection_exists(c)}

    def create_collection(self, payload: Any, query: dict[str, str], c: str) -> bool:
        self._reject_metadata(payload, "CreateCollection")
        request = m.CreateCollection.model_validate(payload or {})
        if self.engine.collection_exists(c):
            raise HTTPError(409, f"Wrong input: Collection `{c}` already exists!")
        return self.engine.create_collection(
            c, vectors_config=request.vectors, sparse_vectors_config=request.sparse_vectors,
            metadata=request.metadata)

    def update_collection(self, payload: Any, query: dict[str, str], c: str) -> bool:
        self._reject_metadata(payload, "UpdateCollection")
        request = m.UpdateCollection.model_validate(payload or {})
        self._collection(c)
        self.engine.update_collection(
            c, sparse_vectors_config=request.sparse_vectors, metadata=request.metadata,
            vectors_config=request.vectors)
        return True

    def delete_collection(self, payload: Any, query: dict[str, str], c: str) -> bool:
        self.indexes.pop(c, None)
        return self.engine.delete_collection(c)

    def create_index(self, payload: Any, query: dict[str, str], c: str) -> dict[str, Any]:
        request = m.CreateFieldIndex.model_validate(payload)
        self._collection(c)
        self.engine.create_payload_index(c, field_name=request.field_name, field_schema=request.field_schema)
        schema = request.field_schema
        self.indexes.setdefault(c, {})[request.field_name] = (
            schema.value if hasattr(schema, "value") else schema.model_dump(mode="json", exclude_none=True))
        return self._updated()

    def upsert(self, payload: Any, query: dict[str, str], c: str) -> dict[str, Any]:
        request = POINT_INSERT.validate_python(payload)
        self._collection(c)
        if (request.update_filter is not None or request.update_mode is not None) and not self.supports_metadata:
            raise HTTPError(400, f"Format error in JSON body: unknown field `update_filter` in PointInsertOperations "
                                 f"(this server reports version {self.version}; conditional updates need 1.16)")
        points = request.batch if isinstance(request, m.PointsBatch) else request.points
        # A real server applies writes to a collection one after another; `self.lock` does that here,
        # so `update_filter` (update an existing point only if it matches) is a compare-and-set.
        self.engine.upsert(c, points=points, update_filter=request.update_filter, update_mode=request.update_mode)
        return self._updated()

    def delete_points(self, payload: Any, query: dict[str, str], c: str) -> dict[str, Any]:
        selector = POINTS_SELECTOR.validate_python(payload)
        self._collection(c)
        self.engine.delete(c, points_selector=selector)
        return self._updated()

    def set_payload(self, payload: Any, query: dict[str, str], c: str) -> dict[str, Any]:
        request = m.SetPayload.model_validate(payload)
        self._collection(c)
        selector = m.PointIdsList(points=request.points) if request.points is not None else m.FilterSelector(filter=request.filter)
        self.engine.set_payload(c, payload=request.payload, points=selector, key=request.key)
        return self._updated()

    def scroll(self, payload: Any, query: dict[str, str], c: str) -> dict[str, Any]:
        request = m.ScrollRequest.model_validate(payload or {})
        self._collection(c)
        records, next_offset = self.engine.scroll(
            c, scroll_filter=request.filter, limit=request.limit if request.limit is not None else 10,
            order_by=request.order_by, offset=request.offset,
            with_payload=request.with_payload if request.with_payload is not None else True,
            with_vectors=request.with_vector if request.with_vector is not None else False)
        return {"points": [_record(record) for record in records], "next_page_offset": next_offset}

    def count(self, payload: Any, query: dict[str, str], c: str) -> dict[str, Any]:
        request = m.CountRequest.model_validate(payload or {})
        self._collection(c)
        return {"count": self.engine.count(c, count_filter=request.filter, exact=request.exact is not False).count}

    def query(self, payload: Any, query: dict[str, str], c: str) -> dict[str, Any]:
        request = m.QueryRequest.model_validate(payload or {})
        self._collection(c)
        response = self.engine.query_points(
            c, query=request.query, using=request.using, prefetch=request.prefetch, query_filter=request.filter,
            search_params=request.params, limit=request.limit if request.limit is not None else 10,
            offset=request.offset, with_payload=request.with_payload if request.with_payload is not None else False,
            with_vectors=request.with_vector if request.with_vector is not None else False,
            score_threshold=request.score_threshold, lookup_from=request.lookup_from)
        return {"points": [_record(point) for point in response.points]}

    def retrieve(self, payload: Any, query: dict[str, str], c: str) -> list[dict[str, Any]]:
        request = m.PointRequest.model_validate(payload)
        self._collection(c)
        records = self.engine.retrieve(
            c, ids=request.ids, with_payload=request.with_payload if request.with_payload is not None else True,
            with_vectors=request.with_vector if request.with_vector is not None else False)
        return [_record(record) for record in records]


def _record(record: Any) -> dict[str, Any]:
    """A Record/ScoredPoint as the server writes it: absent optionals left out."""
    out = record.model_dump(mode="json", exclude_none=True)
    if "payload" not in out and getattr(record, "payload", None) is not None:
        out["payload"] = {}
    return out


def _validation_text(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        location = ".".join(str(part) for part in item.get("loc", ()))
        parts.append(f"{location}: {item.get('msg')}")
    return "; ".join(parts)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "qdrant-test-server"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (40 ms per request on Linux).
    disable_nagle_algorithm = True
    emulator: QdrantEmulator

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, reply = self.emulator.handle(self.command, self.path, self.headers, body)
        if status < 0:
            # Fault injection: drop the connection without an answer.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        try:
            self.wfile.write(reply)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout); nothing to answer.
            self.close_connection = True

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("QDRANT_TEST_SERVER_LOG"):
            super().log_message(format, *args)


class QuietHTTPServer(ThreadingHTTPServer):
    """Clients that hang up (timeouts, failed TLS handshakes) are normal in tests, not tracebacks."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (BrokenPipeError, ConnectionResetError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


def watch_parent() -> None:
    """Exit when the process that started us dies, so test runs never leave servers behind."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--version", default="1.16.3", help="version reported by GET / (< 1.16 rejects metadata)")
    parser.add_argument("--api-key-env", help="environment variable holding the API key to require")
    parser.add_argument("--read-only-api-key-env", help="environment variable holding a read-only API key")
    parser.add_argument("--storage", help="folder for a persistent local engine (default: in memory)")
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate chain")
    parser.add_argument("--tls-key", help="private key of --tls-cert")
    args = parser.parse_args()

    def key_from(name: str | None) -> str | None:
        if not name:
            return None
        value = os.environ.get(name)
        if not value:
            sys.exit(f"qdrant_server: environment variable {name} is not set")
        return value

    Handler.emulator = QdrantEmulator(
        args.version, key_from(args.api_key_env), key_from(args.read_only_api_key_env), args.storage)
    server = QuietHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    watch_parent()
    serve(server, args.tls_cert, args.tls_key)


if __name__ == "__main__":
    main()
