"""Raw TCP servers on 127.0.0.1 for what an HTTP server library will not do: break off an
answer, reset a connection, act as a proxy that refuses, or accept no connection at all."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"
ACCEPT_WAIT_S = 0.05
READ_LIMIT_BYTES = 1_000_000
SOCKET_TIMEOUT_S = 5.0

Handler = Callable[[socket.socket, bytes], None]


def closed_port() -> int:
    """A port on 127.0.0.1 that was just free and that nothing listens on."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def read_request(connection: socket.socket) -> bytes:
    """One HTTP request (head and a body of Content-Length bytes), as received."""
    received = b""
    while b"\r\n\r\n" not in received and len(received) < READ_LIMIT_BYTES:
        chunk = connection.recv(65536)
        if not chunk:
            return received
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def reset(connection: socket.socket) -> None:
    """Close with a TCP reset instead of an orderly end."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


class RawServer:
    """Accepts connections on 127.0.0.1, reads one request each and hands it to `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self._socket = socket.socket()
        self._socket.bind((HOST, 0))
        self._socket.listen(8)
        self._socket.settimeout(ACCEPT_WAIT_S)
        self.port = self._socket.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve)
        self._thread.start()

    def url(self, path: str = "/leads", scheme: str = "http") -> str:
        return f"{scheme}://{HOST}:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            connection.settimeout(SOCKET_TIMEOUT_S)
            try:
                request = read_request(connection)
                if request:
                    self.requests.append(request)
                    self.handler(connection, request)
            except OSError:
                pass
            finally:
                connection.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(10)
        self._socket.close()


@contextmanager
def raw_server(handler: Handler) -> Iterator[RawServer]:
    server = RawServer(handler)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def full_backlog(probe_timeout_s: float) -> Iterator[int | None]:
    """A port on 127.0.0.1 whose listening queue is full, so a new connection times out.

    The socket listens but never accepts; one connection fills its queue of one, and Linux
    then drops further connection attempts without an answer. Gives None where a probe still
    connects (a system that answers instead of dropping).
    """
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(0)
    address = listener.getsockname()
    filler = socket.create_connection(address, timeout=SOCKET_TIMEOUT_S)
    probe = socket.socket()
    probe.settimeout(probe_timeout_s)
    try:
        try:
            probe.connect(address)
        except TimeoutError:
            yield address[1]
        else:
            yield None
    finally:
        probe.close()
        filler.close()
        listener.close()
