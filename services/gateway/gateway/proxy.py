"""Forwarding one request to its upstream and its answer back.

- Method, path and query string exactly as sent (never decoded: an encoded
  ``/`` or ``?`` stays encoded, so nothing escapes its route), body and
  end-to-end headers (their bytes as sent) go up; hop-by-hop headers (the
  standard set and any named in ``Connection``) and the client's own
  ``Forwarded``/``X-Forwarded-*`` do not. ``X-Forwarded-For/Proto/Host`` are
  set and ``X-Request-ID`` passed on.
- Bodies are bounded by ``MAX_CONTENT_LENGTH`` (413 beyond); answers stream
  back as they come.
- Connect and read timeouts are bounded: refused or reset -> 502, timed out
  -> 504, as problem documents. Nothing is retried: a request that may have
  reached the upstream is never sent twice.
- ``Location`` and ``Link`` pointing at the upstream are rewritten to the
  gateway's own URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote

import httpx
from flask import Request, Response, g

from core import BadGateway, BadRequest, GatewayTimeout
from core.decorators import read_body

from .upstreams import Upstream

__all__ = ["HOP_BY_HOP", "Proxy", "forward_headers", "raw_target", "rewrite_links"]

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Set again by the hop that sends the message.
_REQUEST_DROPPED = HOP_BY_HOP | {"host", "content-length", "x-request-id"}
_RESPONSE_DROPPED = HOP_BY_HOP | {"date", "server", "x-request-id"}


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    return {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
        if token.strip()
    }


def forward_headers(request: Request, request_id: str) -> list[tuple[str, str]]:
    """The headers to send upstream for *request*."""
    dropped = _REQUEST_DROPPED | _connection_tokens(request.headers.items())
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in dropped]
    headers = [
        (k, v)
        for k, v in headers
        if not k.lower().startswith("x-forwarded-") and k.lower() != "forwarded"
    ]
    earlier = request.headers.get("X-Forwarded-For")
    client = request.remote_addr or "unknown"
    headers += [
        ("X-Forwarded-For", f"{earlier}, {client}" if earlier else client),
        ("X-Forwarded-Proto", request.scheme),
        ("X-Forwarded-Host", request.host),
        ("X-Request-ID", request_id),
    ]
    return headers


def raw_target(request: Request) -> str:
    """The request target as the client sent it: path and query, undecoded."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw and raw.startswith("/"):
        return str(raw)
    target = quote(request.path, safe="/:@!$&'()*+,;=-._~")
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return target


def rewrite_links(value: str, upstream: Upstream, gateway_root: str) -> str:
    """Point URLs at *upstream* (in a Location or Link value) to the gateway."""
    # A URL starts the value or follows "<", "," or a space; the origin ends it.
    pattern = r"(?:^|(?<=[<\s,]))" + re.escape(upstream.url) + r"(?=[/?#>;\s,]|$)"
    return re.sub(pattern, gateway_root.rstrip("/"), value)


class Proxy:
    """Sends requests upstream over one pool of keep-alive connections.

    Requests go straight to httpx's transport: a client's cookie jar, auth
    and redirect handling have no place in a proxy (a shared cookie jar would
    even hand one user's cookies to the next), and skipping them halves the
    gateway's own cost per request. ``client``, over the same transport, is
    for the gateway's own calls (swagger documents, readiness).
    """

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        transport: httpx.BaseTransport | None = None,
        max_connections: int = 100,
    ) -> None:
        self.transport = transport or httpx.HTTPTransport(
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            retries=0,
        )
        self.timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
        self.client = httpx.Client(transport=self.transport, timeout=self.timeout)

    def forward(self, request: Request, upstream: Upstream, target: str) -> Response:
        """Send *request* to *upstream* at *target* (see `raw_target`)."""
        # WSGI hands header values over as latin-1: encoding them back gives
        # the bytes the client sent, whatever they are.
        headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in forward_headers(request, g.request_id)
        ]
        try:
            outgoing = httpx.Request(
                request.method,
                upstream.url + target,
                headers=headers,
                content=read_body(),
                extensions={"timeout": self.timeout.as_dict()},
            )
        except httpx.InvalidURL:
            raise BadRequest("The request target is not a valid URL path.") from None
        try:
            answer = self.transport.handle_request(outgoing)
        except httpx.TimeoutException:
            raise GatewayTimeout(f"The {upstream.name} service did not answer in time.") from None
        except httpx.TransportError:
            raise BadGateway(f"The {upstream.name} service could not be reached.") from None
        return self._response(answer, upstream, request)

    def _response(self, answer: httpx.Response, upstream: Upstream, request: Request) -> Response:
        dropped = _RESPONSE_DROPPED | _connection_tokens(answer.headers.multi_items())
        headers = []
        for name, value in answer.headers.multi_items():
            lower = name.lower()
            if lower in dropped:
                continue
            if lower in ("location", "link", "content-location"):
                value = rewrite_links(value, upstream, request.host_url)
            headers.append((name, value))
        # The body goes back byte for byte (iter_raw): Content-Length holds.
        response = Response(_body(answer), status=answer.status_code, headers=headers)
        if "content-type" not in answer.headers:
            del response.headers["Content-Type"]  # werkzeug's default is not the upstream's
        response.call_on_close(answer.close)
        return response


def _body(answer: httpx.Response) -> Iterator[bytes]:
    try:
        if answer.is_stream_consumed:  # a transport that reads eagerly (tests)
            yield answer.content
        else:
            yield from answer.iter_raw()
    finally:
        answer.close()
