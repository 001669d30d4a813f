"""gunicorn's workers, answering what their servers refuse as problem documents.

gunicorn (and gevent, at the gateway) read each request's head, its request
line and headers, before any app sees it, and refuse some heads on their own:
a request line longer than gunicorn's ``limit_request_line`` (4094 bytes,
without its CRLF), more header fields than ``limit_request_fields`` (100), a
field longer than ``limit_request_field_size`` (8190 bytes with its CRLF), a
malformed request line, method, HTTP version, header or ``Content-Length``.
Their own answers are an HTML page or an empty body. These workers answer the
contract's problem document instead (`core.errors.problem_response`): 414 for
the request line, 431 for the headers, 400 for the rest, each with a request
id in ``X-Request-ID`` and in the document, and ``Connection: close`` (what
follows a broken head cannot be trusted to be the next request).

- `ThreadWorker`: gunicorn's ``gthread`` worker, the services' (`core.serve`).
- `core.gevent_worker.PyWSGIWorker`: gunicorn's ``gevent_pywsgi`` worker, the
  gateway's, which enforces the same three limits on gevent's parser.

Slow heads. A request's head must arrive within ``HEAD_TIMEOUT`` seconds (an
environment variable; default 10) of its connection being taken up: a client
that trickles its headers (slowloris) is answered 408 and closed, one that
sent nothing is closed (checked about once a second). A thread
worker gives each connection a thread while its head arrives, so a few such
clients still hold the service's threads for up to that long; the services
sit behind the gateway, whose greenlets hold thousands of them cheaply
(`core.gevent_worker`). Idle kept-alive connections are gunicorn's: closed
after ``keepalive`` seconds (2) by the thread worker, after ``HEAD_TIMEOUT``
at the gateway.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from http import HTTPStatus
from ssl import SSLError
from typing import Any

from gunicorn.http import errors as http_errors
from gunicorn.workers import gthread

from .errors import ApiException, problem_response
from .log import REQUEST_ID_HEADER, request_id_for

__all__ = [
    "HEAD_TIMEOUT",
    "ThreadWorker",
    "head_timed_out",
    "head_timeout",
    "log_refusal",
    "peer_address",
    "problem_answer",
    "refusal",
]

HEAD_TIMEOUT = 10.0
"""Seconds a request's head may take to arrive, unless ``HEAD_TIMEOUT`` says otherwise."""

log = logging.getLogger("core.workers")


def head_timeout() -> float:
    """``HEAD_TIMEOUT`` from the environment (seconds, > 0), else `HEAD_TIMEOUT`."""
    value = os.environ.get("HEAD_TIMEOUT")
    if not value:
        return HEAD_TIMEOUT
    seconds = float(value)
    if not seconds > 0:
        raise ValueError(f"HEAD_TIMEOUT must be a positive number of seconds, not {value!r}")
    return seconds


# The details both workers' refusals give (a limit goes in the braces).
LINE_TOO_LONG = "The request line is longer than {} bytes."
FIELD_TOO_LONG = "A header field is longer than {} bytes."
TOO_MANY_FIELDS = "The request has more than {} header fields."
BAD_LINE = "The request line is malformed."
BAD_METHOD = "The request method is malformed."
BAD_VERSION = "The HTTP version is not supported (HTTP/1.0 or 1.1)."
BAD_FIELD = "A header field is malformed."
MALFORMED = "The request is malformed."


def head_timed_out(seconds: float) -> str:
    """The detail of the 408 for a head that took longer than *seconds*."""
    return f"The request's head did not arrive within {seconds:g} s."


def log_refusal(request_id: str, status: int, detail: str, peer: str | None) -> None:
    """One log record for a request the server refused before any app saw it."""
    log.warning(
        "request refused by the server: %s",
        detail,
        extra={"request_id": request_id, "status": status, "remote_addr": peer},
    )


def peer_address(address: Any) -> str | None:
    """The client's IP address (none on a Unix socket)."""
    return address[0] if isinstance(address, tuple) and address else None


def problem_answer(
    status: int, detail: str, incoming_request_id: str | None = None
) -> tuple[str, bytes]:
    """The request id and the whole HTTP/1.1 answer (head and problem document)
    for a request the server refuses before any app sees it; it closes the
    connection. *incoming_request_id* is the client's ``X-Request-ID``, when
    its headers were read (kept if well formed)."""
    request_id = request_id_for(incoming_request_id)
    response = problem_response(ApiException(detail, code=status), request_id=request_id)
    response.headers[REQUEST_ID_HEADER] = request_id
    response.headers["Connection"] = "close"
    head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in response.headers.items()
    )
    return request_id, head.encode("latin-1") + b"\r\n" + response.get_data()


# gunicorn's refusals, most specific first; any other ParseException is a 400.
_REFUSALS: list[tuple[type[BaseException] | tuple[type[BaseException], ...], int, str]] = [
    (
        (http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName),
        500,
        "The server could not complete the request.",
    ),
    (http_errors.ConfigurationProblem, 500, "The server could not complete the request."),
    (http_errors.LimitRequestLine, 414, LINE_TOO_LONG),
    (http_errors.InvalidRequestLine, 400, BAD_LINE),
    (http_errors.InvalidRequestMethod, 400, BAD_METHOD),
    (http_errors.InvalidHTTPVersion, 400, BAD_VERSION),
    (http_errors.ObsoleteFolding, 400, "A header field is folded over lines (obsolete)."),
    (
        (http_errors.InvalidHeader, http_errors.InvalidHeaderName),
        400,
        BAD_FIELD,
    ),
    (
        (
            http_errors.InvalidChunkSize,
            http_errors.ChunkMissingTerminator,
            http_errors.InvalidChunkExtension,
        ),
        400,
        "The request body's chunks are malformed.",
    ),
    (http_errors.UnsupportedTransferCoding, 501, "The request's transfer coding is not supported."),
    (http_errors.ExpectationFailed, 417, "The request's expectation cannot be met."),
    ((http_errors.ForbiddenProxyRequest, SSLError), 403, "The request is forbidden."),
]


def refusal(exc: BaseException, cfg: Any) -> tuple[int, str]:
    """The status and detail of the problem that answers gunicorn's *exc*
    (raised while reading a request); 500 for what is no client's fault."""
    if isinstance(exc, http_errors.LimitRequestHeaders):
        fields, size = cfg.limit_request_fields, cfg.limit_request_field_size
        if str(exc).endswith("fields size"):
            return 431, FIELD_TOO_LONG.format(size)
        if str(exc).endswith("fields"):
            return 431, TOO_MANY_FIELDS.format(fields)
        return 431, "The request's header fields are too large."
    for kinds, status, detail in _REFUSALS:
        if isinstance(exc, kinds):
            return status, detail.format(cfg.limit_request_line)
    if isinstance(exc, http_errors.ParseException):
        return 400, MALFORMED
    return 500, "The server could not complete the request."


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn's ``gthread`` worker; what it refuses is a problem document,
    and a head that takes longer than `head_timeout` is cut off (408)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = head_timeout()
        # The connections whose head a thread is reading, and by when it must be read.
        self._heads: dict[gthread.TConn, float] = {}
        self._heads_lock = threading.Lock()

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        status, detail = refusal(exc, self.cfg)
        request_id, answer = problem_answer(status, detail)
        peer = peer_address(addr)
        if status >= 500:
            log.error(
                "request failed in the server",
                exc_info=(type(exc), exc, exc.__traceback__),
                extra={"request_id": request_id, "status": status, "remote_addr": peer},
            )
        else:
            log_refusal(request_id, status, detail, peer)
        with contextlib.suppress(OSError):
            client.sendall(answer)

    def handle(self, conn: gthread.TConn) -> Any:
        with self._heads_lock:
            self._heads[conn] = time.monotonic() + self.head_timeout
        try:
            return super().handle(conn)
        finally:
            with self._heads_lock:
                self._heads.pop(conn, None)

    def handle_request(self, req: Any, conn: gthread.TConn) -> bool:
        # The head is read: from here the app's own timeouts apply.
        with self._heads_lock:
            cut_off = self._heads.pop(conn, None) is None
        if cut_off:  # answered 408 meanwhile
            return False
        return bool(super().handle_request(req, conn))

    def murder_pending(self) -> None:
        """gunicorn's sweep of idle connections (each turn of the main loop,
        at least once a second), and the cut-off of heads past their time."""
        super().murder_pending()
        now = time.monotonic()
        with self._heads_lock:
            late = [
                conn
                for conn, deadline in self._heads.items()
                if deadline <= now and not conn.is_http2  # HTTP/2: streams, not one head
            ]
            for conn in late:
                del self._heads[conn]
        for conn in late:
            self._cut_off(conn)

    def _cut_off(self, conn: gthread.TConn) -> None:
        """Answer 408 to a head that did not arrive in time (if any of it did)
        and shut the socket: the thread reading it sees the end and is free."""
        if conn.data_ready or conn.initialized:
            detail = head_timed_out(self.head_timeout)
            request_id, answer = problem_answer(408, detail)
            log_refusal(request_id, 408, detail, peer_address(conn.client))
            with contextlib.suppress(OSError):  # never block the main loop on it
                conn.sock.send(answer, socket.MSG_DONTWAIT)
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)
