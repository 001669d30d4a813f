"""Prometheus metrics at ``/metrics``, summed over every gunicorn worker.

Every app records each request its routes answer in
``http_request_duration_seconds`` (a histogram; its ``_count`` is the number
of requests), by route template (``/api/entities/<int:entity_id>``, never the
raw path; ``unmatched`` for a path no route has), method (``other`` for one
HTTP does not define) and status; and
``db_pool_connections_in_use``, the database connections its workers hold.
The gateway adds its upstreams' (`gateway.proxy`).

gunicorn loads an app in its master and forks the workers, so each worker
counts on its own: `serve` (`core.serve`) gives the server a directory of its
own in ``PROMETHEUS_MULTIPROC_DIR`` before the app is loaded, where
prometheus-client keeps each process's values, and ``/metrics`` sums them
(`exposition`). Without it (a test client, AWS Lambda) the one process
counts alone.

``/metrics`` answers only clients whose address (the client's own behind
``TRUSTED_PROXY_HOPS``) is in ``METRICS_ALLOWED_FROM``: by default this
machine and the private networks, where Prometheus scrapes from; the public
clients of a gateway get a 404, as for any path that is not there.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterable
from http import HTTPMethod

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from .errors import NotFound

__all__ = [
    "DEFAULT_ALLOWED_FROM",
    "MULTIPROCESS_DIR",
    "REQUEST_SECONDS",
    "exposition",
    "init_metrics",
    "method_label",
    "parse_networks",
]

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""The variable naming where each process keeps its values (set by `core.serve`)."""
DEFAULT_ALLOWED_FROM = "127.0.0.0/8 ::1/128 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7"
"""``METRICS_ALLOWED_FROM`` unless set: loopback and the private networks."""

REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Requests the app's routes answered, and how long each took.",
    ["route", "method", "status"],
)
POOL_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)

Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def method_label(method: str) -> str:
    """*method* as a label: one of HTTP's own, else ``other`` (a client can
    send any word as a method; each would be new series, stored and scraped)."""
    return method if method in HTTPMethod.__members__ else "other"


def parse_networks(value: str | Iterable[str]) -> Networks:
    """``METRICS_ALLOWED_FROM``: networks (``10.0.0.0/8``) or addresses, comma
    or space separated; `ValueError` names what is neither."""
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"METRICS_ALLOWED_FROM: {item!r} is no network or address") from None
    return tuple(networks)


def exposition() -> bytes:
    """The metrics of every process of this server (or of this one), as text."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _allowed(address: str | None, networks: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


def init_metrics(app: Flask) -> None:
    """Record every request *app*'s routes answer, and serve ``/metrics``.

    Each request is timed from the start `core.log.init_request_id` records
    for the access log (call this after it)."""
    networks: Networks = app.config["METRICS_ALLOWED_FROM"]  # parsed by core.config

    @app.after_request
    def _record(response: Response) -> Response:
        started = g.get("request_started")
        if started is not None:
            rule = request.url_rule
            REQUEST_SECONDS.labels(
                rule.rule if rule is not None else "unmatched",
                method_label(request.method),
                str(response.status_code),
            ).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", endpoint="metrics")
    def metrics() -> Response:
        """Prometheus metrics of every worker (for the allowed networks only)."""
        if not _allowed(request.remote_addr, networks):
            raise NotFound()
        return Response(exposition(), content_type=CONTENT_TYPE_LATEST)


def watch_pool() -> None:
    """Keep `POOL_IN_USE` as SQLAlchemy's pools check connections out and in
    (once per process: the listeners are on every pool)."""
    import sqlalchemy as sa

    if sa.event.contains(sa.pool.Pool, "checkout", _checked_out):
        return
    sa.event.listen(sa.pool.Pool, "checkout", _checked_out)
    sa.event.listen(sa.pool.Pool, "checkin", _checked_in)


def _checked_out(*_: object) -> None:
    POOL_IN_USE.inc()


def _checked_in(*_: object) -> None:
    POOL_IN_USE.dec()
