"""The route table: which upstream service answers which path prefix.

Configured as ``GATEWAY_UPSTREAMS``, a JSON object of services::

    {"entity": {"url": "http://127.0.0.1:8001", "prefixes": ["/api/entities"]},
     "math":   {"url": "http://127.0.0.1:8002", "prefixes": ["/api/math"]}}

Paths are forwarded unchanged (``/api/entities/7`` -> ``<entity url>/api/entities/7``);
the longest matching prefix wins; a path no prefix matches is a 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["RouteTable", "Upstream", "parse_upstreams"]


def under(path: str, prefix: str) -> bool:
    """Whether *path* is *prefix* or below it, segment-wise (not ``/api/entitiesx``)."""
    return path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True, slots=True)
class Upstream:
    """A service behind the gateway: its name, base URL and path prefixes."""

    name: str
    url: str
    prefixes: tuple[str, ...]

    def owns(self, path: str) -> bool:
        return any(under(path, p) for p in self.prefixes)


def parse_upstreams(config: Mapping[str, Any]) -> tuple[Upstream, ...]:
    """Read and check ``GATEWAY_UPSTREAMS``; raise ``ValueError`` when malformed."""
    upstreams = []
    for name, entry in config.items():
        url = str(entry.get("url", "")).rstrip("/")
        prefixes = tuple(str(p).rstrip("/") for p in entry.get("prefixes", ()))
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"upstream {name!r}: url must be http(s), not {url!r}")
        if not prefixes or not all(p.startswith("/") and len(p) > 1 for p in prefixes):
            raise ValueError(f"upstream {name!r}: prefixes must be paths like /api/things")
        upstreams.append(Upstream(name, url, prefixes))
    return tuple(upstreams)


class RouteTable:
    """Finds the upstream of a path: the longest prefix wins."""

    def __init__(self, upstreams: tuple[Upstream, ...]) -> None:
        self.upstreams = upstreams
        self._routes = sorted(
            ((prefix, u) for u in upstreams for prefix in u.prefixes),
            key=lambda route: len(route[0]),
            reverse=True,
        )

    def match(self, path: str) -> Upstream | None:
        for prefix, upstream in self._routes:
            if under(path, prefix):
                return upstream
        return None
