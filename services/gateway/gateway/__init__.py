"""The gateway's routes: docs, merged swagger, health, readiness, and the proxy.

``/`` is Swagger UI (flask-restx's own assets) over ``/swagger``, the merged
document; ``/healthz`` is the gateway itself and ``/readyz`` asks every
upstream's ``/readyz``; every other path goes to the upstream whose prefix it
starts with, through a per-client rate limit (`gateway.ratelimit`).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Flask, Response, render_template, request
from flask_restx.apidoc import apidoc

from core import NotFound, ServiceUnavailable
from core.app import add_readiness_check

from .proxy import Proxy, raw_target
from .ratelimit import RateLimit
from .readiness import check_upstreams
from .swagger import SwaggerCache
from .upstreams import RouteTable, parse_upstreams

__all__ = ["init_gateway"]

PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), mimetype="application/json")


def init_gateway(app: Flask, *, transport: Any = None) -> None:
    """Attach the gateway to *app*; *transport* replaces the network in tests."""
    config = app.config
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the access log says enough
    upstreams = parse_upstreams(config["GATEWAY_UPSTREAMS"])
    table = RouteTable(upstreams)
    proxy = Proxy(
        connect_timeout=float(config["GATEWAY_CONNECT_TIMEOUT"]),
        read_timeout=float(config["GATEWAY_READ_TIMEOUT"]),
        transport=transport,
    )
    swagger = SwaggerCache(
        proxy.client,
        upstreams,
        ttl=float(config["GATEWAY_SWAGGER_TTL"]),
        timeout=float(config["GATEWAY_CONNECT_TIMEOUT"]),
    )
    app.extensions["gateway"] = {"proxy": proxy, "routes": table, "swagger": swagger}
    rate_limit = RateLimit(config["RATELIMIT_DEFAULT"], config["RATELIMIT_STORAGE_URI"])
    app.register_blueprint(apidoc)  # Swagger UI's static files, served locally

    @app.get("/", endpoint="docs")
    def docs() -> str:
        """Swagger UI over the merged document."""
        return render_template("swagger-ui.html", title="API gateway", specs_url="/swagger")

    @app.get("/swagger", endpoint="swagger")
    def merged_swagger() -> Response:
        """Every upstream's operations in one Swagger 2.0 document."""
        return _json(swagger.get())

    def upstreams_ready() -> dict[str, str]:
        states = check_upstreams(proxy.client, upstreams, float(config["GATEWAY_READY_TIMEOUT"]))
        down = [name for name, ok in states.items() if not ok]
        if down:
            raise ServiceUnavailable(f"Not ready: {', '.join(down)}.")
        return {name: "ready" for name in states}

    add_readiness_check(app, upstreams_ready)  # the gateway is ready when they are

    @app.route("/<path:path>", methods=PROXY_METHODS, endpoint="proxy")
    def forward(path: str) -> Response:
        rate_limit.check()  # the gateway's own routes are not limited
        target = raw_target(request)
        upstream = table.match(target.split("?", 1)[0])
        if upstream is None:
            raise NotFound(f"No service answers {request.path}.")
        return proxy.forward(request, upstream, target)
