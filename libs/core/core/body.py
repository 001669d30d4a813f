"""Reading a request's body within the size limit, at the WSGI level.

Flask views read it through `core.decorators.read_body`; the gateway's proxy,
which works below Flask, calls `read_wsgi_body` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment  # pants: no-infer-dep

__all__ = ["read_wsgi_body"]


def read_wsgi_body(environ: WSGIEnvironment, limit: int | None) -> bytes:
    """The body of the request in *environ*, at most *limit* bytes however it is sent.

    A declared ``Content-Length`` over the limit is refused unread; a chunked
    body is read from the server's own (terminated) stream one byte past the
    limit, so exactly the limit passes. Compressed bodies are refused (415).
    """
    if environ.get("HTTP_CONTENT_ENCODING", "identity").lower() != "identity":
        raise UnsupportedMediaType("Compressed request bodies are not accepted.")
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH")
    if declared:
        try:
            size = int(declared)
        except ValueError:
            raise BadRequest("The Content-Length header is not a number.") from None
        if size < 0:
            raise BadRequest("The Content-Length header is negative.")
        if limit is not None and size > limit:
            raise PayloadTooLarge()
        data: bytes = _read(stream, size)
        if len(data) < size:
            raise BadRequest(ENDED_EARLY, headers=CLOSE)
        return data
    if environ.get("wsgi.input_terminated"):
        data = _read(stream, None if limit is None else limit + 1)
        if limit is not None and len(data) > limit:
            raise PayloadTooLarge()
        return data
    return b""


ENDED_EARLY = "The request body ended before its Content-Length."
UNREADABLE = "The request body could not be read: it ended early or its chunks are malformed."
CLOSE = {"Connection": "close"}
"""On the 400 for a broken body: what the connection holds next is no request
(gevent would read the rest of a malformed chunk as one, and answer it)."""


def _read(stream: Any, size: int | None) -> bytes:
    """Read from the server's stream; what the client broke is a 400.

    The servers raise what they raise for the client's bytes, and nothing
    else comes from a read: a body that ends before its length (gevent's
    OSError "unexpected end of file", gunicorn's ``NoMoreData``), malformed
    chunks (gevent's OSError, gunicorn's ``InvalidChunkSize`` and
    ``ChunkMissingTerminator``, which are no OSError).
    """
    try:
        data: bytes = stream.read() if size is None else stream.read(size)
    except Exception:
        raise BadRequest(UNREADABLE, headers=CLOSE) from None
    return data
