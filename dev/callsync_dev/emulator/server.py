"""HTTPS transport: a threading HTTP server on loopback with a certificate from a throwaway CA."""

from __future__ import annotations

import contextlib
import logging
import pathlib
import ssl
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

from callsync_dev.emulator.app import App
from callsync_dev.emulator.messages import Request, Response
from callsync_dev.emulator.values import dumps

log = logging.getLogger(__name__)


class TlsMaterial:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost; the CA PEM is written to a file."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self._dir = tempfile.TemporaryDirectory(prefix="callsync-emulator-")
        self.ca_file = str(pathlib.Path(self._dir.name) / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(self.context)

    def cleanup(self) -> None:
        self._dir.cleanup()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App, context: ssl.SSLContext) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        """TLS handshake in the connection's own thread, so one slow client blocks no one."""
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)  # type: ignore[arg-type]
        finally:
            with contextlib.suppress(OSError):
                tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("emulator connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes; no 40 ms delayed-ACK stall
    server: _Server

    def _serve(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            request = Request(
                method=self.command,
                path=parsed.path,
                query=urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                target_length=len(self.path.encode()),
            )
            response = self.server.app.handle(request)
        except Exception:
            log.exception("emulator: unexpected error on %s %s", self.command, parsed.path)
            response = Response(
                500,
                dumps(
                    [
                        {
                            "errorCode": "UNKNOWN_EXCEPTION",
                            "message": "An unexpected error occurred. Please include this "
                            "ErrorId if you contact support: 0-emulator",
                        }
                    ]
                ),
                {"Content-Type": "application/json;charset=UTF-8"},
            )
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("emulator: " + format, *args)


class HttpsServer:
    """Runs an App over HTTPS on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: App, port: int = 0) -> None:
        self.tls = TlsMaterial()
        self.httpd = _Server(("127.0.0.1", port), app, self.tls.context)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"salesforce-emulator-{self.port}",
            daemon=True,
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        self.tls.cleanup()
