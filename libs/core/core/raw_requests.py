"""Requests as bytes on the wire, which no client library would send, for tests
of the servers' own refusals (`core.workers`, `core.gevent_worker`).

`REFUSED` maps each kind of broken or over-limit head to the bytes and the
status it must get; `LIMITS` has a head at each of gunicorn's limits and one
a byte (or a field) over, built by `request_line`, `field` and `fields`. `exchange` sends bytes and reads everything the server
answers until it closes, `split_answer` takes the first answer apart and
`only_problem` checks that an answer is one problem document and nothing else.
"""

from __future__ import annotations

import socket
from typing import Any

import orjson

__all__ = [
    "FIELDS_LIMIT",
    "FIELD_SIZE_LIMIT",
    "HOST",
    "LIMITS",
    "LINE_LIMIT",
    "REFUSED",
    "exchange",
    "field",
    "fields",
    "only_problem",
    "request_line",
    "split_answer",
]

LINE_LIMIT = 4094
"""gunicorn's ``limit_request_line``: bytes of the request line, without its CRLF."""
FIELD_SIZE_LIMIT = 8190
"""gunicorn's ``limit_request_field_size``: bytes of one header line, with its CRLF."""
FIELDS_LIMIT = 100
"""gunicorn's ``limit_request_fields``: header fields in one request."""

HOST = b"Host: localhost\r\n"
"""A ``Host`` header line, for heads built by hand."""


def request_line(length: int, path: str = "/healthz") -> bytes:
    """A GET of *path* whose request line is *length* bytes (CRLF not counted),
    padded in its query string."""
    line = f"GET {path}?pad= HTTP/1.1".encode()
    padded = line.replace(b"?pad=", b"?pad=" + b"a" * (length - len(line)))
    assert len(padded) == length
    return padded + b"\r\n"


def field(size: int) -> bytes:
    """One header line of *size* bytes, its CRLF included."""
    line = b"X-Pad: " + b"a" * (size - len(b"X-Pad: \r\n")) + b"\r\n"
    assert len(line) == size
    return line


def fields(count: int) -> bytes:
    """*count* header lines, ``Host`` among them."""
    return HOST + b"".join(b"X-Field-%d: a\r\n" % i for i in range(count - 1))


def _get(head: bytes = HOST, target: bytes = b"/healthz", version: bytes = b"HTTP/1.1") -> bytes:
    return b"GET " + target + b" " + version + b"\r\n" + head + b"\r\n"


LIMITS: dict[str, tuple[bytes, bytes, int]] = {
    "the request line": (
        request_line(LINE_LIMIT) + HOST + b"\r\n",
        request_line(LINE_LIMIT + 1) + HOST + b"\r\n",
        414,
    ),
    "a header field's size": (
        _get(HOST + field(FIELD_SIZE_LIMIT)),
        _get(HOST + field(FIELD_SIZE_LIMIT + 1)),
        431,
    ),
    "the number of header fields": (
        _get(fields(FIELDS_LIMIT)),
        _get(fields(FIELDS_LIMIT + 1)),
        431,
    ),
}
"""For each limit, a GET of ``/healthz`` at it, one over it, and the status of that one."""


REFUSED: dict[str, tuple[bytes, int]] = {
    "a request line one byte over the limit": (request_line(LINE_LIMIT + 1) + HOST + b"\r\n", 414),
    "a request line far over the limit": (request_line(3 * LINE_LIMIT) + HOST + b"\r\n", 414),
    "a header field one byte over the limit": (_get(HOST + field(FIELD_SIZE_LIMIT + 1)), 431),
    "a header field far over the limit": (_get(HOST + field(70_000)), 431),
    "one header field too many": (_get(fields(FIELDS_LIMIT + 1)), 431),
    "a request line of two words": (b"GET /healthz\r\n" + HOST + b"\r\n", 400),
    "a request line of four words": (b"GET /healthz x HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "a control character in the target": (_get(target=b"/heal\x00thz"), 400),
    "a malformed method": (b"G@T /healthz HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "a lower-case method": (b"get /healthz HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "HTTP/2.0 in the request line": (_get(version=b"HTTP/2.0"), 400),
    "a malformed HTTP version": (_get(version=b"HTTP/1.x"), 400),
    "a bare LF ending the request line": (b"GET /healthz HTTP/1.1\n" + HOST + b"\r\n", 400),
    "a header without a colon": (_get(HOST + b"X-Broken\r\n"), 400),
    "a space in a header name": (_get(HOST + b"X Broken: a\r\n"), 400),
    "a control character in a header value": (_get(HOST + b"X-Broken: a\x01b\r\n"), 400),
    "a folded header": (_get(HOST + b"X-Folded: a\r\n b\r\n"), 400),
    "a Content-Length that is no number": (_get(HOST + b"Content-Length: 12a\r\n"), 400),
    "a negative Content-Length": (_get(HOST + b"Content-Length: -1\r\n"), 400),
    "a signed Content-Length": (_get(HOST + b"Content-Length: +0\r\n"), 400),
    "two Content-Lengths": (_get(HOST + b"Content-Length: 0\r\nContent-Length: 1\r\n"), 400),
    "Content-Length beside chunked": (
        b"POST /healthz HTTP/1.1\r\n"
        + HOST
        + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "a transfer coding other than chunked": (
        b"POST /healthz HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip\r\n\r\n",
        400,
    ),
}


def exchange(url: str, data: bytes, timeout: float = 10) -> bytes:
    """Send *data* to the server at *url*, close the sending side, and return
    all it answers until it closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def split_answer(answer: bytes) -> tuple[int, dict[str, str], bytes, bytes]:
    """The first answer in *answer*: its status, headers (lower-case names),
    body (by its ``Content-Length``) and whatever follows it."""
    head, _, rest = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(rest)))
    return int(status_line.split()[1]), headers, rest[:length], rest[length:]


def only_problem(answer: bytes, status: int) -> dict[str, Any]:
    """Check that *answer* is one problem document of *status*, with the same
    request id in its header and its body, announcing ``Connection: close``,
    and that nothing follows it; return the document."""
    got, headers, body, after = split_answer(answer)
    assert got == status, answer[:300]
    assert headers["content-type"] == "application/problem+json", headers
    assert headers["connection"].lower() == "close", headers
    document: dict[str, Any] = orjson.loads(body)
    assert document["status"] == status and document["detail"], document
    assert document["requestId"] == headers["x-request-id"], (document, headers)
    assert after == b"", f"more after the problem: {after[:200]!r}"
    return document
