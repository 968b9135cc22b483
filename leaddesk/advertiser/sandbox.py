"""A local fake advertiser on 127.0.0.1 for trying LeadDesk and for tests against a real server."""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LEADS_PATH = "/leads"
MAX_BODY_BYTES = 1024 * 1024
# How often the serving loop checks for a stop request; bounds how long stop() takes.
STOP_POLL_INTERVAL_S = 0.05
EXIT_OK = 0
EXIT_CANNOT_LISTEN = 2

DUPLICATE_MESSAGE = "Duplicate lead: this e-mail was already received"


class _SandboxState:
    """What the sandbox has received so far, shared by all request threads."""

    def __init__(self, log_file: TextIO | None) -> None:
        self._lock = threading.Lock()
        self._log_file = log_file
        self._seen_emails: set[str] = set()
        self._accepted_count = 0
        self.received: list[dict[str, Any]] = []

    def record(self, path: str, payload: Any) -> None:
        """Keep the request and append it to the log file at once, before any latency."""
        entry = {"received_at": time.time(), "path": path, "payload": payload}
        line = json.dumps(entry, ensure_ascii=False)
        with self._lock:
            self.received.append(entry)
            if self._log_file is not None:
                self._log_file.write(line + "\n")
                # Flushed per line so a reader sees each lead the moment it arrives.
                self._log_file.flush()

    def decide(self, payload: dict[str, Any]) -> tuple[HTTPStatus, dict[str, Any]]:
        """Accept a lead with a new id, or reject it when its e-mail was seen before."""
        email = payload.get("email")
        key = email.strip().lower() if isinstance(email, str) else ""
        with self._lock:
            if key and key in self._seen_emails:
                return HTTPStatus.CONFLICT, {"status": "rejected", "message": DUPLICATE_MESSAGE}
            if key:
                self._seen_emails.add(key)
            self._accepted_count += 1
            lead_id = f"sbx-{self._accepted_count}"
        return HTTPStatus.OK, {"status": "accepted", "lead_id": lead_id}

    def summary(self) -> dict[str, Any]:
        """What a browser shows on GET: that the sandbox is alive and what it has seen."""
        with self._lock:
            return {
                "status": "ok",
                "service": "LeadDesk sandbox advertiser",
                "received": len(self.received),
                "accepted": self._accepted_count,
            }

    def received_copy(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.received)


class _SandboxServer(ThreadingHTTPServer):
    """The HTTP server, carrying the shared state and latency for its handlers."""

    # Request threads must not keep the process alive, nor block shutdown while sleeping.
    daemon_threads = True

    def __init__(self, port: int, state: _SandboxState, latency_s: float) -> None:
        self.state = state
        self.latency_s = latency_s
        super().__init__((HOST, port), _SandboxHandler)


class _SandboxHandler(BaseHTTPRequestHandler):
    """Answers each request the way a real advertiser's API would."""

    server: _SandboxServer
    server_version = "LeadDeskSandbox/1"

    def do_POST(self) -> None:
        body = self._read_body()
        payload = _parse_json(body) if body is not None else None
        self.server.state.record(self.path, payload)
        self._wait_latency()

        if body is None:
            self._reject(
                HTTPStatus.BAD_REQUEST, "The request body is missing, too large or cut short"
            )
        elif payload is None and body.strip() != b"null":
            self._reject(HTTPStatus.BAD_REQUEST, "The request body is not valid JSON")
        elif not isinstance(payload, dict):
            self._reject(HTTPStatus.BAD_REQUEST, "The request body must be a JSON object")
        else:
            status, answer = self.server.state.decide(payload)
            self._send_json(status, answer)

    def do_GET(self) -> None:
        self._wait_latency()
        self._send_json(HTTPStatus.OK, self.server.state.summary())

    def do_HEAD(self) -> None:
        self._method_not_allowed(with_body=False)

    def do_PUT(self) -> None:
        self._method_not_allowed()

    def do_PATCH(self) -> None:
        self._method_not_allowed()

    def do_DELETE(self) -> None:
        self._method_not_allowed()

    def do_OPTIONS(self) -> None:
        self._method_not_allowed()

    def log_message(self, format: str, *args: Any) -> None:
        # The base class prints every request to stderr; a debug line is enough here.
        log.debug("sandbox: " + format, *args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Method, path and status only: the body may carry a lead's e-mail or phone.
        log.debug("sandbox: %s %s -> %s", self.command, self.path, code)

    def _read_body(self) -> bytes | None:
        """The request body, or None when its length is missing, invalid or too large."""
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY_BYTES:
            return None
        body = self.rfile.read(length)
        # A sender that dies while writing leaves a body shorter than it announced: that is
        # no lead, whatever its first bytes hold.
        return body if len(body) == length else None

    def _wait_latency(self) -> None:
        if self.server.latency_s > 0:
            time.sleep(self.server.latency_s)

    def _method_not_allowed(self, with_body: bool = True) -> None:
        self._wait_latency()
        answer = {"status": "rejected", "message": f"Method {self.command} is not allowed"}
        self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, answer, with_body=with_body)

    def _reject(self, status: HTTPStatus, message: str) -> None:
        self._send_json(status, {"status": "rejected", "message": message})

    def _send_json(
        self, status: HTTPStatus, answer: dict[str, Any], with_body: bool = True
    ) -> None:
        data = json.dumps(answer).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, POST")
        self.end_headers()
        if with_body:
            self.wfile.write(data)


def _parse_json(body: bytes) -> Any:
    """The decoded body, or None when it is not JSON."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


class SandboxAdvertiser:
    """A fake advertiser that accepts leads over HTTP on 127.0.0.1, in-process."""

    def __init__(
        self,
        port: int = 0,
        log_path: str | os.PathLike[str] | None = None,
        latency_ms: int = 0,
    ) -> None:
        if latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        self._requested_port = port
        self._log_path = log_path
        self._latency_s = latency_ms / 1000
        self._log_file: TextIO | None = None
        self._state = _SandboxState(None)
        self._server: _SandboxServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on; the requested one until the sandbox listens."""
        if self._server is not None:
            return self._server.server_address[1]
        if self._requested_port == 0:
            raise RuntimeError("The sandbox picks its port when it starts listening")
        return self._requested_port

    @property
    def url(self) -> str:
        """The address to give an offer as its endpoint."""
        return f"http://{HOST}:{self.port}{LEADS_PATH}"

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every POST so far, as logged: received_at, path and payload."""
        return self._state.received_copy()

    def received_requests(self) -> list[dict[str, Any]]:
        """A copy of every POST so far, as logged."""
        return self._state.received_copy()

    def listen(self) -> None:
        """Open the log file and bind the port; raises OSError when either fails."""
        if self._server is not None:
            return
        if self._log_path is not None:
            self._log_file = open(self._log_path, "a", encoding="utf-8")  # noqa: SIM115
        self._state = _SandboxState(self._log_file)
        try:
            self._server = _SandboxServer(self._requested_port, self._state, self._latency_s)
        except OSError:
            self._close_log()
            raise

    def start(self) -> None:
        """Serve in a background daemon thread; returns once the port is listening."""
        if self._thread is not None:
            raise RuntimeError("The sandbox is already running")
        self.listen()
        assert self._server is not None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(STOP_POLL_INTERVAL_S,),
            name="sandbox-advertiser",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, release the port and close the log file."""
        if self._thread is not None and self._server is not None:
            self._server.shutdown()
            self._thread.join()
        self._thread = None
        if self._server is not None:
            self._server.server_close()
            self._server = None
        self._close_log()

    def serve_forever(self) -> None:
        """Serve in the calling thread until Ctrl+C, then release everything."""
        self.listen()
        assert self._server is not None
        try:
            self._server.serve_forever(STOP_POLL_INTERVAL_S)
        except KeyboardInterrupt:
            log.debug("sandbox: interrupted, stopping")
        finally:
            self.stop()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> SandboxAdvertiser:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_sandbox(
    port: int = DEFAULT_PORT,
    log_path: str | os.PathLike[str] | None = None,
    latency_ms: int = 0,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the sandbox for the command line until Ctrl+C; returns the exit code."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    sandbox = SandboxAdvertiser(port=port, log_path=log_path, latency_ms=latency_ms)
    try:
        sandbox.listen()
    except OSError as exc:
        print(_listen_failure_message(exc, port, log_path), file=err)
        return EXIT_CANNOT_LISTEN

    print(f"Sandbox advertiser listening on {sandbox.url} (Ctrl+C to stop)", file=out, flush=True)
    sandbox.serve_forever()
    return EXIT_OK


def _listen_failure_message(
    exc: OSError, port: int, log_path: str | os.PathLike[str] | None
) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"Port {port} is already in use; choose another with --port"
    if exc.errno in (errno.EACCES, errno.EPERM) and exc.filename is None:
        return f"Not allowed to listen on port {port}; choose another with --port"
    if exc.filename is not None and log_path is not None:
        return f"Cannot open the log file {log_path}: {exc.strerror}"
    return f"Cannot listen on port {port}: {exc.strerror or exc}"
