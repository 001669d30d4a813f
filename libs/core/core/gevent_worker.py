"""gunicorn's ``gevent_pywsgi`` worker (the gateway's), holding against bad and slow clients.

gevent's HTTP server, not gunicorn's parser, reads the heads under this
worker, with limits of its own (an 8 KB request line, 64 KB header lines)
and empty or ``text/plain`` answers. `PyWSGIHandler` reads each head under
gunicorn's limits instead, so the gateway refuses what the services refuse,
at the same byte: ``limit_request_line`` (4094 bytes without the CRLF; 414),
``limit_request_fields`` (100; 431) and ``limit_request_field_size`` (8190
bytes with the CRLF; 431). A malformed request line, method (upper case),
HTTP version (HTTP/1.0 and 1.1 are served), header field (a token, a colon,
no control characters, CRLF) or ``Content-Length`` (one, digits only), and a
``Transfer-Encoding`` other than ``chunked`` or beside a ``Content-Length``,
are a 400, as gunicorn refuses them. Each is a problem document with a request id and ``Connection: close``
(`core.workers.problem_answer`), and so are gevent's own answers to a body
it cannot discard (400) or to a failure of its own (500).

Slow and idle clients: the head of each request, and the wait for it on a
kept-alive connection, must come within ``HEAD_TIMEOUT`` seconds (default 10,
`core.workers.head_timeout`). A head cut off after its request line is
answered 408; an idle connection, or one stuck in its request line, is
closed. A waiting connection costs a greenlet and a file descriptor, so each
worker holds up to ``worker_connections`` of them (`core.serve` makes that
10,000 and raises the open-file limit to fit): thousands of trickling
clients neither stall the gateway nor outlive ``HEAD_TIMEOUT``.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
from email.parser import Parser
from typing import Any

from gevent import Timeout
from gevent.pywsgi import MAX_REQUEST_LINE, OldMessage
from gunicorn.workers.ggevent import GeventPyWSGIWorker
from gunicorn.workers.ggevent import PyWSGIHandler as GunicornPyWSGIHandler

from .body import UNREADABLE
from .log import REQUEST_ID_HEADER
from .workers import (
    BAD_FIELD,
    BAD_LINE,
    BAD_METHOD,
    BAD_VERSION,
    FIELD_TOO_LONG,
    LINE_TOO_LONG,
    MALFORMED,
    TOO_MANY_FIELDS,
    head_timed_out,
    head_timeout,
    log_refusal,
    peer_address,
    problem_answer,
)

__all__ = ["PyWSGIHandler", "PyWSGIWorker"]

_MAX_FIELDS = 32768  # gunicorn's, for limit_request_fields 0
# As gunicorn's parser has them (RFC 9110 and 9112), so that both refuse alike.
_METHOD = re.compile(r"[!$%&'*+\-.^_`|~0-9A-Z]{3,20}")
_TARGET = re.compile(r"[\x21-\x7e]+")
_VERSION = re.compile(r"HTTP/1\.[01]")
_FIELD = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\x00-\x08\x0a-\x1f\x7f]*\r\n")


class _Refused(ValueError):
    """A head refused with *status* (gevent hands ValueErrors to `_handle_client_error`)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _HeadTimedOut(TimeoutError):
    """Raised into the handler's greenlet when its head is late. A
    ``TimeoutError`` is a socket error to gevent: while the request line is
    awaited it closes the connection quietly, as for a client gone away."""


class PyWSGIHandler(GunicornPyWSGIHandler):
    """gunicorn's handler for gevent's server, with gunicorn's limits, a time
    limit on heads and problem documents for every refusal.

    The limits are set per worker from gunicorn's settings (`PyWSGIWorker`).
    """

    limit_request_line = 4094
    limit_request_fields = 100
    limit_request_field_size = 8190
    head_timeout = 10.0

    _head = b"\r\n"
    _head_timer: Timeout | None = None

    def handle_one_request(self) -> Any:
        timer = self._head_timer = Timeout.start_new(self.head_timeout, _HeadTimedOut())
        try:
            result = super().handle_one_request()
        finally:
            timer.close()
        if isinstance(result, tuple):  # refused: (status, the whole answer)
            self._refuse(result[1])
            return None
        return result

    def _refuse(self, answer: bytes) -> None:
        """Send *answer* and close with a linger: what the client still sends
        is read for a moment (at most a second and a megabyte), since closing
        on unread bytes resets the connection, which can destroy the answer
        before the client reads it."""
        try:
            self.socket.sendall(answer)
            self.socket.shutdown(socket.SHUT_WR)
            with Timeout(1, False):
                drained = 0
                while drained < 1 << 20 and (chunk := self.socket.recv(65536)):
                    drained += len(chunk)
        except OSError:
            pass

    def read_requestline(self) -> str:
        # Up to the limit, its CRLF and one byte over: never gevent's own 414.
        line: bytes = self.rfile.readline(self.limit_request_line + 3)
        return line.decode("latin-1")

    def read_request(self, raw_requestline: str) -> bool:
        try:
            if len(raw_requestline.rstrip("\r\n")) > self.limit_request_line:
                raise _Refused(414, LINE_TOO_LONG.format(self.limit_request_line))
            words = raw_requestline.removesuffix("\r\n").split(" ")
            if (
                len(words) != 3
                or not raw_requestline.endswith("\r\n")
                or not _TARGET.fullmatch(words[1])
            ):
                raise _Refused(400, BAD_LINE)
            if not _METHOD.fullmatch(words[0]):
                raise _Refused(400, BAD_METHOD)
            if not _VERSION.fullmatch(words[2]):
                raise _Refused(400, BAD_VERSION)
            self._head = self._read_head()
            return bool(super().read_request(raw_requestline))
        finally:
            if self._head_timer is not None:
                self._head_timer.close()  # the head is in: the app's own timeouts apply

    def _read_head(self) -> bytes:
        """The header lines up to the blank one, within the limits."""
        lines = []
        size = self.limit_request_field_size
        for count in itertools.count():
            line: bytes = self.rfile.readline(size + 1)
            if line == b"\r\n":
                break
            if not line.endswith(b"\n"):
                if len(line) > size:
                    raise _Refused(431, FIELD_TOO_LONG.format(size))
                raise _Refused(400, "The request's head ended before its blank line.")
            if len(line) > size:
                raise _Refused(431, FIELD_TOO_LONG.format(size))
            if count >= self.limit_request_fields:
                raise _Refused(431, TOO_MANY_FIELDS.format(self.limit_request_fields))
            if not _FIELD.fullmatch(line):  # also a folded line (obsolete), a bare LF
                raise _Refused(400, BAD_FIELD)
            lines.append(line)
        return b"".join(lines) + b"\r\n"

    def MessageClass(self, fp: Any, *args: Any) -> Any:  # gevent's name
        # The head read by _read_head, parsed as gevent would (without
        # http.client's own limit of 100 lines, blank line included).
        headers = Parser(_class=OldMessage).parsestr(self._head.decode("latin-1"))
        lengths = headers.get_all("Content-Length") or []
        codings = headers.get_all("Transfer-Encoding") or []
        if len(lengths) > 1:
            raise _Refused(400, "The request has more than one Content-Length header.")
        if lengths and not (lengths[0].isascii() and lengths[0].strip(" \t").isdigit()):
            raise _Refused(400, "The Content-Length header is not a number.")
        if codings and [coding.strip(" \t").lower() for coding in codings] != ["chunked"]:
            raise _Refused(400, "The request's transfer coding is not supported (chunked only).")
        if codings and lengths:
            raise _Refused(400, "The request has both Content-Length and Transfer-Encoding.")
        return headers

    def _handle_client_error(self, ex: BaseException) -> tuple[str, bytes]:
        if isinstance(ex, _Refused):
            status, detail = ex.status, ex.detail
        elif isinstance(ex, _HeadTimedOut):
            status, detail = 408, head_timed_out(self.head_timeout)
        else:
            status, detail = 400, MALFORMED
        request_id, answer = problem_answer(status, detail, self.headers.get(REQUEST_ID_HEADER))
        log_refusal(request_id, status, detail, peer_address(self.client_address))
        self.close_connection = True
        return str(status), answer

    def _send_error_response_if_possible(self, error_code: int) -> None:
        """gevent's own 400 (a body it cannot discard) or 500, as a problem;
        nothing when an answer has begun: the connection is closed then."""
        self.close_connection = True
        if self.response_length:
            return
        detail = UNREADABLE if error_code == 400 else "The server could not complete the request."
        _, answer = problem_answer(error_code, detail, self.headers.get(REQUEST_ID_HEADER))
        with contextlib.suppress(OSError):
            self._sendall(answer)
        self.status = str(error_code).encode()


class PyWSGIWorker(GeventPyWSGIWorker):
    """gunicorn's ``gevent_pywsgi`` worker with `PyWSGIHandler`, under this
    worker's ``limit_request_*`` settings and `head_timeout`."""

    default_connections = 10_000
    """``worker_connections`` under `core.serve` (gunicorn's own default: 1000)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cfg = self.cfg
        line = cfg.limit_request_line or MAX_REQUEST_LINE
        fields = cfg.limit_request_fields or _MAX_FIELDS
        self.wsgi_handler = type(
            "PyWSGIHandler",
            (PyWSGIHandler,),
            {
                # read_requestline reads 3 bytes past the limit; gevent's own
                # (empty) 414 comes at MAX_REQUEST_LINE bytes read
                "limit_request_line": min(line, MAX_REQUEST_LINE - 4),
                "limit_request_fields": min(fields, _MAX_FIELDS),
                "limit_request_field_size": cfg.limit_request_field_size or 8190,
                "head_timeout": head_timeout(),
            },
        )
