"""The gateway's routes: docs, merged swagger, health, readiness, and the proxy.

``/`` is the docs UI (`core.docs`) over the merged documents, ``/openapi.json``
(OpenAPI 3.1) and ``/swagger`` (Swagger 2.0); ``/healthz`` is the gateway itself and ``/readyz`` asks every
upstream's ``/readyz``. A path under an upstream's prefix goes to that
upstream, through a per-client rate limit (`gateway.ratelimit`), by
`gateway.proxy`, in front of these routes; any other path is a 404.

The gateway's own calls upstream (swagger documents, readiness) go through
one ``httpx.Client``; *transport* replaces its network in tests.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import orjson
from flask import Flask, Response, request

from core import NotFound, ServiceUnavailable
from core.app import add_readiness_check, add_wsgi_middleware
from core.docs import DOCUMENTS, add_docs_ui

from .breaker import CLOSED
from .proxy import Proxy
from .ratelimit import RateLimit
from .readiness import check_upstreams
from .swagger import SwaggerCache
from .upstreams import RouteTable, parse_upstreams, under

__all__ = ["init_gateway"]

PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), mimetype="application/json")


def init_gateway(app: Flask, *, transport: Any = None) -> None:
    """Attach the gateway to *app*; *transport*: see the module docstring."""
    config = app.config
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the access log says enough
    upstreams = parse_upstreams(config["GATEWAY_UPSTREAMS"])
    table = RouteTable(upstreams)
    connect_timeout = float(config["GATEWAY_CONNECT_TIMEOUT"])
    client = httpx.Client(transport=transport, timeout=connect_timeout)
    proxy = Proxy(
        app,
        table,
        RateLimit(config["RATELIMIT_DEFAULT"], config["RATELIMIT_STORAGE_URI"]),
        connect_timeout=connect_timeout,
        read_timeout=float(config["GATEWAY_READ_TIMEOUT"]),
        breaker_failures=int(config["GATEWAY_BREAKER_FAILURES"]),
        breaker_cooldown=float(config["GATEWAY_BREAKER_COOLDOWN"]),
    )
    add_wsgi_middleware(app, proxy.wrap)
    swagger = SwaggerCache(
        client, upstreams, ttl=float(config["GATEWAY_SWAGGER_TTL"]), timeout=connect_timeout
    )
    app.extensions["gateway"] = {"proxy": proxy, "routes": table, "swagger": swagger}
    app.add_url_rule("/", "index", add_docs_ui(app, "API gateway"))

    @app.get(DOCUMENTS["Swagger 2.0"], endpoint="swagger")
    def merged_swagger() -> Response:
        """Every upstream's operations in one Swagger 2.0 document."""
        return _json(swagger.get())

    @app.get(DOCUMENTS["OpenAPI 3.1"], endpoint="openapi")
    def merged_openapi() -> Response:
        """The merged document as OpenAPI 3.1 (`core.openapi`)."""
        return _json(swagger.openapi())

    def upstreams_ready() -> dict[str, Any]:
        states = check_upstreams(client, upstreams, float(config["GATEWAY_READY_TIMEOUT"]))
        circuits = {name: breaker.state for name, breaker in proxy.breakers.items()}
        down = [
            name if circuits[name] == CLOSED else f"{name} (circuit {circuits[name]})"
            for name, ok in states.items()
            if not ok
        ]
        if down:
            raise ServiceUnavailable(f"Not ready: {', '.join(down)}.")
        return {**{name: "ready" for name in states}, "circuits": circuits}

    add_readiness_check(app, upstreams_ready)  # the gateway is ready when they are

    @app.route("/<path:path>", methods=PROXY_METHODS, endpoint="no_service")
    def no_service(path: str) -> Response:
        """A path no upstream owns (those an upstream owns never reach Flask)."""
        raise NotFound(f"No service answers {request.path}.")

    # No upstream prefix may hide one of the gateway's own routes.
    own = {
        rule.rule.split("<", 1)[0].rstrip("/") or "/"
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "no_service"
    }
    for upstream in upstreams:
        for prefix in upstream.prefixes:
            for path in own:
                if under(path, prefix) or under(prefix, path):
                    raise ValueError(
                        f"upstream {upstream.name!r}: {prefix} covers the gateway's {path}"
                    )
