"""The gateway's app factory.

Settings (each also read from the environment variable of the same name):
``ENTITY_URL`` and ``MATH_URL`` (the default upstreams), ``GATEWAY_UPSTREAMS``
(the whole route table, see `gateway.upstreams`), timeouts in seconds,
``GATEWAY_SWAGGER_TTL``, ``RATELIMIT_DEFAULT`` (``limits`` syntax: ``600/minute``) and
``RATELIMIT_STORAGE_URI`` (``memory://`` or ``redis://host:6379``).
"""

from collections.abc import Mapping
from typing import Any

from flask import Flask

from core import base_app
from gateway import init_gateway

DEFAULTS: dict[str, Any] = {
    "ENTITY_URL": "http://127.0.0.1:8001",
    "MATH_URL": "http://127.0.0.1:8002",
    "GATEWAY_UPSTREAMS": None,  # None: entity and math at the two URLs above
    "GATEWAY_CONNECT_TIMEOUT": 2.0,
    "GATEWAY_READ_TIMEOUT": 10.0,
    "GATEWAY_READY_TIMEOUT": 1.0,
    "GATEWAY_SWAGGER_TTL": 10.0,
    "RATELIMIT_DEFAULT": "6000/minute",
    "RATELIMIT_STORAGE_URI": "memory://",
}


def create_app(
    env: str | None = None, overrides: Mapping[str, Any] | None = None, *, transport: Any = None
) -> Flask:
    app = base_app(__name__, env=env, defaults=DEFAULTS, overrides=overrides)
    if app.config["GATEWAY_UPSTREAMS"] is None:
        app.config["GATEWAY_UPSTREAMS"] = {
            "entity": {"url": app.config["ENTITY_URL"], "prefixes": ["/api/entities"]},
            "math": {"url": app.config["MATH_URL"], "prefixes": ["/api/math"]},
        }
    init_gateway(app, transport=transport)
    return app
