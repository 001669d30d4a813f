"""The note service under real gunicorn, as ``services/note:serve`` runs it
(its entities checked with the stand-in of conftest.py)."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.testing import migrate, running_server, server_token

TOKEN = server_token("http-user", "note:read note:write")


@pytest.fixture(scope="module")
def server(database_url: str, entity_service: Any) -> Iterator[str]:
    migrate(database_url, "note_api")  # its migration line to head
    env = {"DATABASE_URL": database_url, "ENTITY_URL": entity_service[0]}
    with running_server("note_api", env=env) as url:
        yield url


def test_crud_over_http(server: str) -> None:
    http = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {TOKEN}"})
    created = http.post("/api/notes", json={"entityId": 1, "body": "Example body"})
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert location == f"{server}/api/notes/{created.json()['data']['id']}"
    read = http.get(location)
    assert read.status_code == 200 and read.json() == created.json()
    assert http.get(location, headers={"If-None-Match": read.headers["ETag"]}).status_code == 304
    listed = http.get("/api/notes")
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "1"
    assert http.delete(location).status_code == 204
    gone = http.get(location)
    assert gone.status_code == 404
    assert gone.headers["Content-Type"] == "application/problem+json"


def test_without_a_token_it_is_401(server: str) -> None:
    response = httpx.get(f"{server}/api/notes")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
