from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from flask import Flask

from core.testing import serving
from note_api import create_app


class EntityStandIn:
    """A WSGI app standing in for the entity service (the real one is exercised
    in stack/note_test.py): ``GET /api/entities/<id>`` answers by id, and each
    request's headers are recorded."""

    EXISTING = (1, 2)
    FORBIDDEN = 3  # the caller may not read it
    FAILING = 5  # the entity service fails

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.requests.append(
            {
                "path": environ["PATH_INFO"],
                "authorization": environ.get("HTTP_AUTHORIZATION", ""),
                "request_id": environ.get("HTTP_X_REQUEST_ID", ""),
            }
        )
        tail = environ["PATH_INFO"].rsplit("/", 1)[-1]
        entity_id = int(tail) if tail.isdigit() else 0
        status = (
            "200 OK"
            if entity_id in self.EXISTING
            else (
                "403 Forbidden"
                if entity_id == self.FORBIDDEN
                else "500 Internal Server Error" if entity_id == self.FAILING else "404 Not Found"
            )
        )
        start_response(status, [("Content-Type", "application/json")])
        return [b"{}"]


@pytest.fixture(scope="session")
def entity_service() -> Iterator[tuple[str, EntityStandIn]]:
    """The stand-in, served over real HTTP: its URL and itself."""
    stand_in = EntityStandIn()
    with serving(stand_in) as url:
        yield url, stand_in


@pytest.fixture
def app_factory(entity_service):  # type: ignore[no-untyped-def]
    url, _ = entity_service

    def make(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
        return create_app(env, {"ENTITY_URL": url, **(overrides or {})})

    return make


@pytest.fixture
def client_scopes() -> str:
    return "note:read note:write entity:read"
