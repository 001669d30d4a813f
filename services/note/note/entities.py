"""The entity service as note sees it: does an entity exist, for this caller?

Note asks the entity service itself, over HTTP, at its internal URL
(``ENTITY_URL``), as the caller: the caller's ``Authorization`` and the
request's ``X-Request-ID`` are forwarded, so the entity service applies its
own rules (an entity the caller may not read does not exist for it) and the
two services' logs share the request id. The wait is bounded (``timeout``):
an entity service that is down, slow or failing is a fast 503 with
``Retry-After``, never a worker held.
"""

from __future__ import annotations

import logging

import httpx

from core import ServiceUnavailable

__all__ = ["EntityDirectory", "RETRY_AFTER"]

RETRY_AFTER = "5"
"""Seconds a client should wait before retrying when the entity service is unavailable."""

log = logging.getLogger(__name__)

# The entity service's answers that mean "no such entity for this caller".
ABSENT = (401, 403, 404)


class EntityDirectory:
    """`exists` asks the entity service at *base_url* about one entity."""

    def __init__(
        self,
        client: httpx.Client,
        base_url: str,
        *,
        authorization: str | None,
        request_id: str | None,
        timeout: float,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.headers = {
            name: value
            for name, value in (("Authorization", authorization), ("X-Request-ID", request_id))
            if value
        }
        self.timeout = timeout

    def exists(self, entity_id: int) -> bool:
        """Whether the entity exists and the caller may read it; raise
        `ServiceUnavailable` when the entity service cannot say."""
        url = f"{self.base_url}/api/entities/{entity_id}"
        try:
            response = self.client.get(url, headers=self.headers, timeout=self.timeout)
        except httpx.HTTPError as error:
            log.warning("entity service unreachable: %s", type(error).__name__)
            raise self.unavailable() from None
        if response.status_code == 200:
            return True
        if response.status_code in ABSENT:
            return False
        log.warning("entity service answered %s", response.status_code)
        raise self.unavailable()

    @staticmethod
    def unavailable() -> ServiceUnavailable:
        return ServiceUnavailable(
            "The entity service cannot check the entity now; try again later.",
            headers={"Retry-After": RETRY_AFTER},
        )
