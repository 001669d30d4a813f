"""Forwarding requests to their upstream and the answers back, below Flask.

Proxied requests are the gateway's hot path, so they never enter Flask:
`Proxy` is a WSGI middleware in front of the gateway's Flask app, which keeps
the gateway's own routes (docs, swagger, health) and answers every path no
upstream owns. Measured here (``bench/``), Flask's own request handling cost
more per request than the gateway's whole budget. Upstream connections come
from geventhttpclient (pooled keep-alive sockets, a C HTTP parser); under
gunicorn's gevent worker (`gateway_api.main`) a request waiting for its
upstream is a parked greenlet, not a held thread.

- Method, path and query string exactly as sent (never decoded: an encoded
  ``/`` or ``?`` stays encoded, so nothing escapes its route), body and
  end-to-end headers (their bytes as sent) go up; hop-by-hop headers (the
  standard set and any named in ``Connection``), ``Expect`` (the gateway has
  read the body already) and the client's own ``Forwarded``/``X-Forwarded-*``
  do not. ``X-Forwarded-For/Proto/Host`` are set and ``X-Request-ID`` passed
  on (or made, `core.log`) and returned.
- Bodies are bounded by ``MAX_CONTENT_LENGTH`` (413 beyond); answers stream
  back as they come.
- Connect and read timeouts are bounded: refused or reset -> 502, timed out
  -> 504, as problem documents. A circuit breaker per upstream
  (`gateway.breaker`) answers 503 with ``Retry-After`` at once, sending
  nothing, while that upstream rests after failing again and again. Nothing is retried but what HTTP allows: a
  GET, HEAD, OPTIONS, PUT or DELETE whose pooled connection turns out closed
  is sent again on a fresh one (RFC 9110, 9.2.2); a POST or PATCH never is.
- ``Location`` and ``Link`` pointing at the upstream are rewritten to the
  gateway's own URL.
- Metrics (`core.metrics`), per upstream: ``gateway_upstream_request_duration_seconds``
  (to the answer's head; by method and status, the gateway's own problems
  included), ``gateway_upstream_errors_total`` (by error: ``unreachable``,
  ``timeout``, ``server_error``, ``circuit_open``) and ``gateway_circuit_state``
  (0 closed, 2 open; set as each worker's circuit opens or closes, the
  highest shown).
- The host the client names, which ``X-Forwarded-Host`` and those rewritten
  URLs carry, must be one of ``ALLOWED_HOSTS``: else a 400, by the same check
  as the gateway's own routes (`core.hosts`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from functools import partial
from http.client import HTTPException
from typing import TYPE_CHECKING
from urllib.parse import quote

from flask import Flask, g
from geventhttpclient import HTTPClient
from geventhttpclient.header import Headers
from prometheus_client import Counter, Gauge, Histogram
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_host, get_path_info

from core import ApiException, BadGateway, BadRequest, GatewayTimeout, ServiceUnavailable
from core.body import read_wsgi_body
from core.errors import problem_response
from core.hosts import check_host
from core.log import REQUEST_ID_HEADER, log_access, request_id_for
from core.metrics import method_label

from .breaker import CLOSED, OPEN, Breaker
from .ratelimit import RateLimit
from .upstreams import RouteTable, Upstream

if TYPE_CHECKING:
    from _typeshed.wsgi import (
        StartResponse,  # pants: no-infer-dep
        WSGIApplication,  # pants: no-infer-dep
        WSGIEnvironment,  # pants: no-infer-dep
    )
    from geventhttpclient.response import HTTPSocketPoolResponse

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
_REQUEST_DROPPED = HOP_BY_HOP | {"host", "content-length", "expect", "x-request-id", "forwarded"}
_RESPONSE_DROPPED = HOP_BY_HOP | {"date", "server", "x-request-id"}
_REWRITTEN = frozenset({"location", "link", "content-location"})
# Read and pass on answers in blocks this big: an API's answer in one piece.
_BLOCK = 64 * 1024
# WSGI carries these two without the HTTP_ prefix.
_UNPREFIXED = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}

UPSTREAM_SECONDS = Histogram(
    "gateway_upstream_request_duration_seconds",
    "Proxied requests, by upstream, method and status, to the answer's head.",
    ["upstream", "method", "status"],
)
UPSTREAM_ERRORS = Counter(
    "gateway_upstream_errors_total",
    "Proxied requests an upstream failed: unreachable, timeout, server_error, circuit_open.",
    ["upstream", "error"],
)
CIRCUIT_STATE = Gauge(
    "gateway_circuit_state",
    "Each upstream's circuit breaker: 0 closed, 2 open (half open is open, its cooldown over).",
    ["upstream"],
    multiprocess_mode="livemax",
)
_CIRCUIT_VALUES = {CLOSED: 0, OPEN: 2}


def _show_circuit(upstream: str, state: str) -> None:
    CIRCUIT_STATE.labels(upstream).set(_CIRCUIT_VALUES[state])


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    return {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
        if token.strip()
    }


def _request_headers(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").title(), value))
        elif key in _UNPREFIXED and value:
            headers.append((_UNPREFIXED[key], value))
    return headers


def forward_headers(environ: WSGIEnvironment, request_id: str) -> list[tuple[str, str]]:
    """The headers to send upstream for the request in *environ*."""
    incoming = _request_headers(environ)
    dropped = _REQUEST_DROPPED | _connection_tokens(incoming)
    headers = [
        (name, value)
        for name, value in incoming
        if (lower := name.lower()) not in dropped and not lower.startswith("x-forwarded-")
    ]
    earlier = environ.get("HTTP_X_FORWARDED_FOR")
    client = environ.get("REMOTE_ADDR") or "unknown"
    headers += [
        ("X-Forwarded-For", f"{earlier}, {client}" if earlier else client),
        ("X-Forwarded-Proto", environ.get("wsgi.url_scheme", "http")),
        ("X-Forwarded-Host", get_host(environ)),
        ("X-Request-ID", request_id),
    ]
    return headers


def raw_target(environ: WSGIEnvironment) -> str:
    """The request target as the client sent it: path and query, undecoded."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw and raw.startswith("/"):
        return str(raw)
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    target = quote(path, safe="/:@!$&'()*+,;=-._~", encoding="latin-1")
    if query := environ.get("QUERY_STRING"):
        target += "?" + query
    return target


def rewrite_links(value: str, upstream: Upstream, gateway_root: str) -> str:
    """Point URLs at *upstream* (in a Location or Link value) to the gateway."""
    # A URL starts the value or follows "<", "," or a space; the origin ends it.
    pattern = r"(?:^|(?<=[<\s,]))" + re.escape(upstream.url) + r"(?=[/?#>;\s,]|$)"
    return re.sub(pattern, gateway_root.rstrip("/"), value)


class _Body:
    """An upstream answer's body as a WSGI iterable; closing it frees the connection."""

    def __init__(self, answer: HTTPSocketPoolResponse) -> None:
        self.answer = answer

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.answer)

    def close(self) -> None:
        self.answer.release()  # back to the pool when read to the end, else closed


class Proxy:
    """Sends requests for the upstreams' paths upstream; the routes it wraps answer the rest.

    One pool of keep-alive connections per upstream, per worker, sized to
    gunicorn's ``worker_connections``: each request in flight holds one.
    *app* gives the body limit and renders problems as its routes do.
    """

    routes_app: WSGIApplication

    def __init__(
        self,
        app: Flask,
        routes: RouteTable,
        rate_limit: RateLimit,
        *,
        connect_timeout: float,
        read_timeout: float,
        breaker_failures: int = 5,
        breaker_cooldown: float = 3.0,
        max_connections: int = 1000,
    ) -> None:
        self.app = app
        self.routes = routes
        self.rate_limit = rate_limit
        self.breakers = {
            upstream.name: Breaker(
                upstream.name,
                failures=breaker_failures,
                cooldown=breaker_cooldown,
                on_change=partial(_show_circuit, upstream.name),
            )
            for upstream in routes.upstreams
        }
        self.clients = {
            upstream.name: HTTPClient.from_url(
                upstream.url,
                concurrency=max_connections,
                block_size=_BLOCK,
                connection_timeout=connect_timeout,
                network_timeout=read_timeout,
            )
            for upstream in routes.upstreams
        }

    def wrap(self, routes_app: WSGIApplication) -> WSGIApplication:
        """Put the proxy in front of *routes_app* (see `core.app.add_wsgi_middleware`)."""
        self.routes_app = routes_app
        return self

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        target = raw_target(environ)
        upstream = self.routes.match(target.split("?", 1)[0])
        if upstream is None:
            return self.routes_app(environ, start_response)
        started = time.perf_counter()
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        body: Iterable[bytes]
        try:
            check_host(get_host(environ), self.app.config["ALLOWED_HOSTS"])
            self.rate_limit.check(environ.get("REMOTE_ADDR") or "unknown")
            answer = self._send(environ, upstream, target, request_id)
        except ApiException as exc:
            status, headers, body = self._problem(environ, exc, request_id)
        else:
            status, headers = answer.status_code, self._answer_headers(answer, upstream, environ)
            body = _Body(answer)
        headers.append((REQUEST_ID_HEADER, request_id))
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'Unknown')}", headers)
        UPSTREAM_SECONDS.labels(
            upstream.name, method_label(environ["REQUEST_METHOD"]), str(status)
        ).observe(time.perf_counter() - started)
        log_access(
            environ["REQUEST_METHOD"],
            get_path_info(environ),
            status,
            started,
            environ.get("REMOTE_ADDR"),
            request_id,
        )
        return body

    def _send(
        self, environ: WSGIEnvironment, upstream: Upstream, target: str, request_id: str
    ) -> HTTPSocketPoolResponse:
        body = read_wsgi_body(environ, self.app.config["MAX_CONTENT_LENGTH"])
        headers = Headers()
        for name, value in forward_headers(environ, request_id):
            headers.add(name, value)
        breaker = self.breakers[upstream.name]
        ticket = breaker.admit()
        if isinstance(ticket, int):
            UPSTREAM_ERRORS.labels(upstream.name, "circuit_open").inc()
            raise ServiceUnavailable(
                f"The {upstream.name} service is failing; it is not called for now.",
                headers={"Retry-After": str(ticket)},
            )
        ok: bool | None = False
        try:
            answer = self.clients[upstream.name].request(
                environ["REQUEST_METHOD"], target, body=body, headers=headers
            )
            # A 503 with Retry-After is the service answering for itself that
            # something it needs is down (its database, a service it calls).
            ok = answer.status_code < 500 or (
                answer.status_code == 503 and answer.get("Retry-After") is not None
            )
            if not ok:
                UPSTREAM_ERRORS.labels(upstream.name, "server_error").inc()
            return answer
        except ValueError:  # refused by the client before sending: no valid HTTP
            ok = None
            raise BadRequest("The request cannot be forwarded as HTTP.") from None
        except TimeoutError:
            UPSTREAM_ERRORS.labels(upstream.name, "timeout").inc()
            raise GatewayTimeout(f"The {upstream.name} service did not answer in time.") from None
        except (OSError, HTTPException):
            UPSTREAM_ERRORS.labels(upstream.name, "unreachable").inc()
            raise BadGateway(f"The {upstream.name} service could not be reached.") from None
        finally:
            breaker.record(ticket, ok)

    def _answer_headers(
        self, answer: HTTPSocketPoolResponse, upstream: Upstream, environ: WSGIEnvironment
    ) -> list[tuple[str, str]]:
        received = list(answer.items())
        dropped = _RESPONSE_DROPPED | _connection_tokens(received)
        headers = []
        for name, value in received:
            lower = name.lower()
            if lower in dropped:
                continue
            if lower in _REWRITTEN:
                root = f"{environ.get('wsgi.url_scheme', 'http')}://{get_host(environ)}"
                value = rewrite_links(value, upstream, root)
            headers.append((name, value))
        return headers

    def _problem(
        self, environ: WSGIEnvironment, exc: ApiException, request_id: str
    ) -> tuple[int, list[tuple[str, str]], Iterable[bytes]]:
        """The problem document for *exc*, rendered as the Flask app renders it."""
        with self.app.request_context(environ):
            g.request_id = request_id
            response = problem_response(exc)
        return response.status_code, response.headers.to_wsgi_list(), [response.get_data()]
