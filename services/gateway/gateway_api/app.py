"""The gateway's app factory.

Settings (each also read from the environment variable of the same name):
``<NAME>_URL`` for every service of the registry (``ENTITY_URL``,
``MATH_URL``, ...; default: the service on this machine at its registry
port), routed at the registry's prefixes; ``GATEWAY_UPSTREAMS`` (the whole
route table instead, see `gateway.upstreams`), timeouts in seconds,
``GATEWAY_SWAGGER_TTL``, ``GATEWAY_BREAKER_FAILURES`` and ``GATEWAY_BREAKER_COOLDOWN``
(`gateway.breaker`), ``RATELIMIT_DEFAULT`` (``limits`` syntax: ``600/minute``) and
``RATELIMIT_STORAGE_URI`` (``memory://`` or ``redis://host:6379``).
"""

from collections.abc import Mapping
from typing import Any

from flask import Flask

from core import base_app
from core.registry import read
from deployables import deployables
from gateway import init_gateway

SERVICES = read(deployables()).services
"""The upstreams by default: every service of the registry."""

DEFAULTS: dict[str, Any] = {
    **{service.url_setting: service.local_url for service in SERVICES},
    "GATEWAY_UPSTREAMS": None,  # None: every service at its <NAME>_URL
    "GATEWAY_CONNECT_TIMEOUT": 2.0,
    "GATEWAY_READ_TIMEOUT": 10.0,
    "GATEWAY_READY_TIMEOUT": 1.0,
    "GATEWAY_SWAGGER_TTL": 10.0,
    # The circuit breaker of each upstream (gateway.breaker): failures in a
    # row that open it, and seconds it stays open before a probe (short: a
    # service that is back is called again within that).
    "GATEWAY_BREAKER_FAILURES": 5,
    "GATEWAY_BREAKER_COOLDOWN": 3.0,
    "RATELIMIT_DEFAULT": "6000/minute",
    "RATELIMIT_STORAGE_URI": "memory://",
}


def create_app(
    env: str | None = None, overrides: Mapping[str, Any] | None = None, *, transport: Any = None
) -> Flask:
    app = base_app(__name__, env=env, defaults=DEFAULTS, overrides=overrides)
    if app.config["GATEWAY_UPSTREAMS"] is None:
        app.config["GATEWAY_UPSTREAMS"] = {
            service.name: {
                "url": app.config[service.url_setting],
                "prefixes": list(service.prefixes),
            }
            for service in SERVICES
        }
    init_gateway(app, transport=transport)
    return app
