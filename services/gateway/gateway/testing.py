"""Test helpers: a real upstream that records what reaches it (`recording_upstream`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from core.testing import serving

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment  # pants: no-infer-dep

__all__ = ["Sent", "Upstream", "recording_upstream"]


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
