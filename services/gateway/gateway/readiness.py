"""Readiness: whether every upstream's ``/readyz`` says so, asked in parallel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from .upstreams import Upstream

__all__ = ["check_upstreams"]


def _ready(client: httpx.Client, upstream: Upstream, timeout: float) -> bool:
    try:
        return client.get(f"{upstream.url}/readyz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def check_upstreams(
    client: httpx.Client, upstreams: tuple[Upstream, ...], timeout: float
) -> dict[str, bool]:
    """Each upstream's name and whether it is ready, within about *timeout*."""
    with ThreadPoolExecutor(max_workers=max(1, len(upstreams))) as pool:
        answers = pool.map(lambda u: _ready(client, u, timeout), upstreams)
        return {u.name: ok for u, ok in zip(upstreams, answers, strict=True)}
