"""Writes at the same moment, on PostgreSQL under real gunicorn and real threads.

Without ``If-Match`` the last writer wins (no 412 for a client that named no
version); with it, one of two writers of the same version gets 412; a change
of a row deleted meanwhile is 404, never 412. SQLite serializes writers on a
file lock instead, so these run on PostgreSQL only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import httpx
import pytest

from core.auth import DEV_JWT_SECRET, mint_token
from core.testing import migrate, running_server

ROUNDS = 40
HEADERS = {
    "Authorization": "Bearer " + mint_token(DEV_JWT_SECRET, "racer", "entity:read entity:write")
}


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent writers are a PostgreSQL matter; DATABASE_URL names none")
    migrate(database_url, "entity_api")  # its migration line to head
    with running_server("entity_api", env={"DATABASE_URL": database_url}) as url:
        yield url


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Run *calls* in threads released together; their answers, in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


def created(http: httpx.Client) -> tuple[str, str]:
    response = http.post("/api/entities", json={"name": "raced"})
    assert response.status_code == 201
    return response.headers["Location"], response.headers["ETag"]


def test_two_patches_without_if_match_both_succeed(server: str) -> None:
    with (
        httpx.Client(base_url=server, headers=HEADERS, timeout=30) as a,
        httpx.Client(base_url=server, headers=HEADERS, timeout=30) as b,
    ):
        for _ in range(ROUNDS):
            location, _ = created(a)
            answers = at_once(
                partial(a.patch, location, json={"purpose": "a"}),
                partial(b.patch, location, json={"purpose": "b"}),
            )
            assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
            final = a.get(location)
            assert final.json()["data"]["purpose"] in ("a", "b")
            assert final.headers["ETag"].endswith('-3"')  # both writes happened


def test_two_patches_of_the_same_version_with_if_match_one_wins(server: str) -> None:
    with (
        httpx.Client(base_url=server, headers=HEADERS, timeout=30) as a,
        httpx.Client(base_url=server, headers=HEADERS, timeout=30) as b,
    ):
        for _ in range(ROUNDS):
            location, etag = created(a)
            answers = at_once(
                partial(a.patch, location, json={"purpose": "a"}, headers={"If-Match": etag}),
                partial(b.patch, location, json={"purpose": "b"}, headers={"If-Match": etag}),
            )
            assert sorted(r.status_code for r in answers) == [200, 412]
            assert a.get(location).headers["ETag"].endswith('-2"')  # one write only


def test_a_patch_of_a_row_deleted_meanwhile_is_404_never_412(server: str) -> None:
    seen: set[int] = set()
    with (
        httpx.Client(base_url=server, headers=HEADERS, timeout=30) as a,
        httpx.Client(base_url=server, headers=HEADERS, timeout=30) as b,
    ):
        for _ in range(ROUNDS):
            location, _ = created(a)
            deleted, patched = at_once(
                partial(a.delete, location),
                partial(b.patch, location, json={"purpose": "late"}),
            )
            assert deleted.status_code == 204, deleted.text
            assert patched.status_code in (200, 404), patched.text
            seen.add(patched.status_code)
            assert a.get(location).status_code == 404
    assert 404 in seen  # the race was run, not only won by the patch
