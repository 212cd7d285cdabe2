"""A small Lambda Runtime API (version 2018-06-01) on loopback, for one function process.

The runtime interface client (``awslambdaric``) of a function process polls it exactly as it polls
Lambda's own endpoint (``AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>``):

- ``GET  /2018-06-01/runtime/invocation/next`` — blocks until an invocation is queued, then returns the
  event with the ``Lambda-Runtime-Aws-Request-Id``, ``-Deadline-Ms``, ``-Invoked-Function-Arn`` and
  ``-Trace-Id`` headers;
- ``POST /2018-06-01/runtime/invocation/{id}/response`` — the handler's result;
- ``POST /2018-06-01/runtime/invocation/{id}/error`` — the handler raised (``{errorMessage, errorType,
  stackTrace}``, ``Lambda-Runtime-Function-Error-Type``);
- ``POST /2018-06-01/runtime/init/error`` — the function could not initialise (import error, bad handler).

``RuntimeApi.invoke`` queues one event and waits for its outcome. Reference: the AWS Lambda developer
guide, "Using the Lambda runtime API for custom runtimes".
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
_POLL_SECONDS = 0.2


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str


@dataclass
class Outcome:
    """How one invocation ended: ``response`` (JSON bytes) or ``error`` (the runtime's error document)."""

    request_id: str
    response: bytes | None = None
    error: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


class RuntimeApi:
    """``with RuntimeApi() as api:`` — serves on 127.0.0.1; ``api.address`` goes into ``AWS_LAMBDA_RUNTIME_API``."""

    def __init__(self) -> None:
        self._pending: queue.Queue[Invocation] = queue.Queue()
        self._outcomes: dict[str, Outcome] = {}
        self._done = threading.Condition()
        self.init_error: dict[str, Any] | None = None
        self._closed = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="runtime-api", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> RuntimeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RuntimeApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def submit(self, event: Any, *, function_arn: str, timeout_seconds: float) -> str:
        """Queue one invocation; returns its request id."""
        request_id = str(uuid.uuid4())
        deadline_ms = int((time.time() + timeout_seconds) * 1000)
        trace_id = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"
        self._pending.put(Invocation(request_id, json.dumps(event).encode(), deadline_ms, function_arn, trace_id))
        return request_id

    def wait(self, request_id: str, timeout_seconds: float, alive: Any = None) -> Outcome | None:
        """The invocation's outcome; None when ``timeout_seconds`` pass first, or the process died
        (``alive()`` returned False) or reported an init error without answering."""
        deadline = time.monotonic() + timeout_seconds
        with self._done:
            while request_id not in self._outcomes:
                if self.init_error is not None or (alive is not None and not alive()):
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._done.wait(min(remaining, _POLL_SECONDS))
            return self._outcomes[request_id]

    # ------------------------------------------------------------------ called by the HTTP handler
    def _next(self) -> Invocation | None:
        while not self._closed.is_set():
            try:
                return self._pending.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
        return None

    def _record(self, outcome: Outcome) -> None:
        with self._done:
            self._outcomes[outcome.request_id] = outcome
            self._done.notify_all()

    def _record_init_error(self, error: dict[str, Any]) -> None:
        with self._done:
            self.init_error = error
            self._done.notify_all()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A runtime stopped while it waited on ``/next`` resets its connection: not an error of the API."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _error_document(body: bytes, error_type: str | None) -> dict[str, Any]:
    try:
        document = json.loads(body) if body else {}
    except json.JSONDecodeError:
        document = {"errorMessage": body.decode(errors="replace")}
    if not isinstance(document, dict):
        document = {"errorMessage": str(document)}
    document.setdefault("errorType", error_type or "Unhandled")
    return document


def _handler_class(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # the function's own output is what matters

        def _reply(
            self,
            status: HTTPStatus,
            body: dict[str, Any],
            headers: dict[str, str] | None = None,
            raw: bytes | None = None,
        ) -> None:
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_GET(self) -> None:
            if self.path != f"{PREFIX}/invocation/next":
                self._reply(HTTPStatus.NOT_FOUND, {"errorMessage": f"unknown path {self.path}"})
                return
            invocation = api._next()
            if invocation is None:  # shutting down
                self._reply(HTTPStatus.GONE, {"errorMessage": "runtime API stopped"})
                return
            self._reply(
                HTTPStatus.OK,
                {},
                raw=invocation.payload,
                headers={
                    "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                    "Lambda-Runtime-Trace-Id": invocation.trace_id,
                },
            )

        def do_POST(self) -> None:
            body = self._body()
            parts = self.path.removeprefix(PREFIX).strip("/").split("/")
            if parts == ["init", "error"]:
                api._record_init_error(_error_document(body, self.headers.get("Lambda-Runtime-Function-Error-Type")))
            elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "response":
                api._record(Outcome(parts[1], response=body))
            elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "error":
                error = _error_document(body, self.headers.get("Lambda-Runtime-Function-Error-Type"))
                api._record(Outcome(parts[1], error=error))
            else:
                self._reply(HTTPStatus.NOT_FOUND, {"errorMessage": f"unknown path {self.path}"})
                return
            self._reply(HTTPStatus.ACCEPTED, {"status": "OK"})

    return Handler
