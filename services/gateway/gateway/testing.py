"""Test helpers: a real upstream that records what reaches it (`recording_upstream`),
and one that keeps connections alive and closes them as servers do (`KeepAliveUpstream`)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from core.testing import serving

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment  # pants: no-infer-dep

__all__ = ["KeepAliveUpstream", "Received", "Sent", "Upstream", "recording_upstream"]


@dataclass
class Sent:
    """One request as the upstream received it."""

    method: str
    target: str  # as on the request line
    headers: Headers
    body: bytes
    environ: WSGIEnvironment  # the server's own: REMOTE_PORT, werkzeug.socket


class Upstream:
    """A real HTTP server that records what reaches it and answers with ``handler``.

    (werkzeug's server closes every connection after one answer, so keep-alive
    reuse is not seen here; the stack and the benchmark run the real thing.)
    """

    def __init__(self) -> None:
        self.url = ""  # set by `recording_upstream`
        self.requests: list[Sent] = []
        self.handler: Callable[[Sent], Response] = lambda sent: Response(
            b'{"data": {}}', mimetype="application/json"
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        sent = Sent(
            request.method,
            environ["RAW_URI"],
            Headers(request.headers),
            request.get_data(),
            environ,
        )
        self.requests.append(sent)
        return self.handler(sent)(environ, start_response)


@contextlib.contextmanager
def recording_upstream() -> Iterator[Upstream]:
    """An `Upstream` served over real HTTP (`core.testing.serving`) until the block ends."""
    recorder = Upstream()
    with serving(recorder) as url:
        recorder.url = url
        yield recorder


@dataclass(frozen=True)
class Received:
    """One request as `KeepAliveUpstream` read it: on which of its connections
    (numbered from 1 in accept order), and whether it answered it."""

    connection: int
    method: str
    target: str
    answered: bool


class KeepAliveUpstream:
    """A real HTTP/1.1 upstream that keeps its connections alive, as gunicorn's
    gevent worker does, and closes them the two ways servers do:

    - *idle_timeout*: a connection idle that long is closed (the server's
      keep-alive timeout);
    - *answers_per_connection*: after that many answers on a connection the
      next request on it is read and then the connection closed unanswered: a
      keep-alive timeout that fired as the request arrived. What the client
      sees is a pooled connection that turns out closed once it has sent.

    Every request read is in `received`, in order. Use it as a context manager.
    """

    def __init__(
        self, *, idle_timeout: float = 30.0, answers_per_connection: int | None = None
    ) -> None:
        self.idle_timeout = idle_timeout
        self.answers_per_connection = answers_per_connection
        self.received: list[Received] = []
        self.connections = 0
        self.closed_idle = threading.Event()  # set when an idle connection is closed
        self._lock = threading.Lock()
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def __enter__(self) -> KeepAliveUpstream:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._socket.close()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(connection, number), daemon=True).start()

    def _serve(self, connection: socket.socket, number: int) -> None:
        answers = 0
        buffer = b""
        with connection:
            connection.settimeout(self.idle_timeout)
            while True:
                try:
                    while b"\r\n\r\n" not in buffer:
                        chunk = connection.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                except TimeoutError:
                    self.closed_idle.set()
                    return
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                method, target, _ = request_line.split(" ", 2)
                length = 0
                for line in lines:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                while len(buffer) < length:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                buffer = buffer[length:]
                answer = (
                    self.answers_per_connection is None or answers < self.answers_per_connection
                )
                self.received.append(Received(number, method, target, answer))
                if not answer:
                    return  # closed with the request unanswered
                body = (
                    b""
                    if method == "HEAD"
                    else f'{{"data": {{"n": {len(self.received)}}}}}'.encode()
                )
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                answers += 1
