"""Note against the real entity service, both under gunicorn: an entity that
exists, does not, may not be read by the caller; an entity service that is
down or hangs is a fast 503 with Retry-After, and the note worker keeps
answering meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import migrate
from core.auth import mint_token
from core.process import free_port, start_service, stop_service, wait_until_healthy
from core.testing import Hanging
from stack.conftest import SECRET

COMMON = {"LOG_LEVEL": "WARNING", "JWT_SECRET": SECRET}
WRITER = "note:read note:write entity:read entity:write"
TIMEOUT = 1.0  # ENTITY_TIMEOUT of the notes started here


def bearer(subject: str, scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, subject, scopes)}"}


def started(package: str, env: dict[str, str]) -> tuple[str, Any]:
    started = start_service(package, env={**COMMON, **env}, args=("--workers", "1"))
    wait_until_healthy(started.url, started.process)
    return started.url, started.process


@pytest.fixture(scope="module")
def system(database_url: str) -> Iterator[dict[str, str]]:
    migrate.upgrade_all(database_url)
    hanging = Hanging()
    processes = []
    try:
        entity, process = started("entity_api", {"DATABASE_URL": database_url})
        processes.append(process)
        urls = {"entity": entity}
        for name, entity_url in (
            ("note", entity),
            ("note_down", f"http://127.0.0.1:{free_port()}"),  # nothing listens there
            ("note_hanging", f"http://127.0.0.1:{hanging.port}"),
        ):
            env = {
                "DATABASE_URL": database_url,
                "ENTITY_URL": entity_url,
                "ENTITY_TIMEOUT": str(TIMEOUT),
            }
            urls[name], process = started("note_api", env)
            processes.append(process)
        yield urls
    finally:
        for process in processes:
            stop_service(process)
        hanging.close()


def entity_id(system: dict[str, str]) -> int:
    response = httpx.post(
        f"{system['entity']}/api/entities", json={"name": "n"}, headers=bearer("w", WRITER)
    )
    assert response.status_code == 201
    found: int = response.json()["data"]["id"]
    return found


def post_note(url: str, entity: int, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{url}/api/notes", json={"entityId": entity, "body": "b"}, headers=headers, timeout=10
    )


def test_a_note_about_an_existing_entity_is_created(system: dict[str, str]) -> None:
    response = post_note(system["note"], entity_id(system), bearer("w", WRITER))
    assert response.status_code == 201, response.text


def test_an_unknown_entity_is_422(system: dict[str, str]) -> None:
    response = post_note(system["note"], 2**31 - 1, bearer("w", WRITER))
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/entityId"]


def test_an_entity_the_caller_may_not_read_is_422_as_if_absent(system: dict[str, str]) -> None:
    no_entity_scope = bearer("w", "note:read note:write")
    response = post_note(system["note"], entity_id(system), no_entity_scope)
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/entityId"]


@pytest.mark.parametrize("which", ["note_down", "note_hanging"])
def test_an_entity_service_down_or_hanging_is_a_fast_503(
    system: dict[str, str], which: str
) -> None:
    url = system[which]
    results: list[httpx.Response] = []
    started_at = time.monotonic()
    waiting = threading.Thread(
        target=lambda: results.append(post_note(url, 1, bearer("w", WRITER)))
    )
    waiting.start()
    # Meanwhile the same worker answers others at once.
    listed = httpx.get(f"{url}/api/notes", headers=bearer("r", "note:read"), timeout=5)
    assert listed.status_code == 200
    waiting.join(timeout=10)
    (response,) = results
    elapsed = time.monotonic() - started_at
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert elapsed < TIMEOUT + 2, elapsed
