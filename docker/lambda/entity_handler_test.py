"""``entity_api.aws_lambda:handler`` called with AWS's sample events (events/).

The handler's app is built on import, as on Lambda, on this test process's
database (``DATABASE_URL``), migrated first as production's are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command

from core.aws_lambda import LambdaHandler
from core.lambda_events import MULTI_VALUE, SOURCES, event_like, invoke, load_event
from core.testing import server_token
from entity_migrations import line as entity_line

EVENTS = Path(__file__).resolve().parent / "events"
PROBLEM = "application/problem+json"
TOKEN = server_token("lambda-user", "entity:read entity:write")
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Content-Type": "application/json"}


def sample(source: str) -> dict[str, Any]:
    return load_event(EVENTS, source)


@pytest.fixture(scope="module")
def handler(database_url: str) -> Iterator[LambdaHandler]:
    config = entity_line.make_config(database_url)
    command.upgrade(config, "head")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        patch.setenv("APP_ENV", "test")
        from entity_api import aws_lambda  # builds the app, as Lambda's init does

        yield aws_lambda.handler
    command.downgrade(config, "base")


def create(handler: LambdaHandler, source: str, name: str) -> tuple[int, dict[str, str], Any]:
    body = json.dumps({"name": name, "purpose": "On Lambda"}).encode()
    event = event_like(
        sample(source), "POST", "/api/entities", headers={**AUTH, **JSON}, body=body, base64=True
    )
    return invoke(handler, event)


@pytest.mark.parametrize("source", SOURCES)
def test_create_from_a_base64_body_then_get_it(handler: LambdaHandler, source: str) -> None:
    status, headers, body = create(handler, source, f"From {source}")
    assert status == 201, body
    entity = body["data"]
    assert entity["name"] == f"From {source}" and entity["ownerId"] == "lambda-user"
    assert headers["location"].endswith(f".amazonaws.com/api/entities/{entity['id']}") or (
        headers["location"].endswith(f".on.aws/api/entities/{entity['id']}")
    )
    assert headers["etag"]
    path = f"/api/entities/{entity['id']}"
    status, headers, body = invoke(handler, event_like(sample(source), "GET", path, headers=AUTH))
    assert status == 200 and body["data"] == entity
    etag = {"If-None-Match": headers["etag"], **AUTH}
    status, _, body = invoke(handler, event_like(sample(source), "GET", path, headers=etag))
    assert status == 304 and body is None


@pytest.mark.parametrize("source", SOURCES)
def test_list_with_an_in_filter(handler: LambdaHandler, source: str) -> None:
    ids = [create(handler, source, f"{source} {n}")[2]["data"]["id"] for n in range(3)]
    query = [("filter[id][in]", f"{ids[0]},{ids[2]}"), ("sort", "-id")]
    event = event_like(sample(source), "GET", "/api/entities", query=query, headers=AUTH)
    status, headers, body = invoke(handler, event)
    assert status == 200, body
    assert [e["id"] for e in body["data"]] == [ids[2], ids[0]]
    assert headers["x-total-count"] == "2"


@pytest.mark.parametrize("source", MULTI_VALUE)
def test_a_repeated_parameter_arrives_twice_and_is_refused(
    handler: LambdaHandler, source: str
) -> None:
    query = [("page", "1"), ("page", "2")]
    event = event_like(sample(source), "GET", "/api/entities", query=query, headers=AUTH)
    status, headers, body = invoke(handler, event)
    assert status == 400 and headers["content-type"] == PROBLEM
    assert body["errors"][0]["parameter"] == "page"


@pytest.mark.parametrize("source", SOURCES)
def test_malformed_json_is_a_400_problem(handler: LambdaHandler, source: str) -> None:
    event = event_like(
        sample(source), "POST", "/api/entities", headers={**AUTH, **JSON}, body=b'{"name": '
    )
    status, headers, body = invoke(handler, event)
    assert status == 400 and headers["content-type"] == PROBLEM
    assert body["status"] == 400


@pytest.mark.parametrize("source", SOURCES)
def test_invalid_fields_are_a_422_problem(handler: LambdaHandler, source: str) -> None:
    event = event_like(
        sample(source),
        "POST",
        "/api/entities",
        headers={**AUTH, **JSON},
        body=b'{"name": ""}',
        base64=True,
    )
    status, headers, body = invoke(handler, event)
    assert status == 422 and headers["content-type"] == PROBLEM
    assert body["errors"][0]["pointer"] == "/name"


@pytest.mark.parametrize("source", SOURCES)
def test_without_a_token_is_401(handler: LambdaHandler, source: str) -> None:
    status, headers, body = invoke(handler, event_like(sample(source), "GET", "/api/entities"))
    assert status == 401 and headers["www-authenticate"] == "Bearer"
    assert headers["content-type"] == PROBLEM


@pytest.mark.parametrize("source", ["http-v2", "rest-v1"])
def test_readyz_reaches_the_database(handler: LambdaHandler, source: str) -> None:
    status, _, body = invoke(handler, event_like(sample(source), "GET", "/readyz"))
    assert status == 200 and body == {"data": {"database": "ready"}}
