"""Rate limits per client at the edge, with the ``limits`` library.

``RATELIMIT_DEFAULT`` holds the limits in its syntax (``600/minute``,
``10/second;1000/hour``); ``RATELIMIT_STORAGE_URI`` where the counts live
(``memory://``, per worker process; ``redis://host:6379`` to share them). The
client is its address as the gateway sees it (``TRUSTED_PROXY_HOPS`` says
whether a load balancer's ``X-Forwarded-For`` counts). Over a limit: 429 with
``Retry-After``. (Flask-Limiter, which is built on ``limits``, cost the
gateway a third of its time per request here.)
"""

from __future__ import annotations

import logging
import math
import time

from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from core import TooManyRequests

__all__ = ["RateLimit"]

log = logging.getLogger("gateway.ratelimit")


class RateLimit:
    def __init__(self, limits: str, storage_uri: str) -> None:
        self.items = parse_many(limits)
        self.storage_uri = storage_uri
        # memory:// counts per process and starts a timer thread, which must not
        # exist when the master forks the workers: each process makes its own on
        # first use. Any other storage is made (and its URI checked) now.
        self._limiter = None if storage_uri.startswith("memory://") else self._make()

    def _make(self) -> FixedWindowRateLimiter:
        # Fixed windows: a counter per client and window, whatever the limit.
        return FixedWindowRateLimiter(storage_from_string(self.storage_uri))

    @property
    def limiter(self) -> FixedWindowRateLimiter:
        if self._limiter is None:
            self._limiter = self._make()
        return self._limiter

    def check(self, client: str) -> None:
        """Count a request of *client* (its address) against its limits; 429 when one is spent.

        When the counts cannot be reached (Redis down), requests pass: the
        limit protects the services, and failing closed would stop them all.
        """
        for item in self.items:
            try:
                allowed = self.limiter.hit(item, client)
            except Exception:
                log.exception("rate limit storage unavailable; letting the request through")
                return
            if not allowed:
                reset = self.limiter.get_window_stats(item, client).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                raise TooManyRequests(
                    f"Rate limit of {item} exceeded; retry in {wait} s.",
                    headers={"Retry-After": str(wait)},
                )
