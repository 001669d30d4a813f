"""ALLOWED_HOSTS in the entity service: the host of Location and list links is one it allows."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.testing import migrate, raw_exchange, running_server, server_token
from entity_api import create_app

HOSTS = "api.example.com,[::1],127.0.0.1"


@pytest.fixture
def app_factory() -> Callable[..., Flask]:
    """The service behind one proxy (the gateway), allowing HOSTS only."""

    def make(env: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
        settings = {"ALLOWED_HOSTS": HOSTS, "TRUSTED_PROXY_HOPS": 1, **(overrides or {})}
        return create_app(env, overrides=settings)

    return make


def test_location_and_links_are_on_the_allowed_host(client: FlaskClient) -> None:
    created = client.post("/api/entities", json={"name": "a"}, headers={"Host": "api.example.com"})
    assert created.status_code == 201
    entity_id = created.get_json()["data"]["id"]
    assert created.headers["Location"] == f"http://api.example.com/api/entities/{entity_id}"
    listing = client.get("/api/entities?pageSize=1", headers={"Host": "[::1]:8001"})
    assert listing.get_json()["links"]["self"].startswith("http://[::1]:8001/api/entities?")


def test_behind_the_gateway_the_forwarded_host_makes_the_links(client: FlaskClient) -> None:
    headers = {
        "Host": "entity:8001",  # the gateway's connection: not a host links may carry
        "X-Forwarded-Host": "API.Example.com:8443",
        "X-Forwarded-Proto": "https",
    }
    created = client.post("/api/entities", json={"name": "a"}, headers=headers)
    assert created.status_code == 201
    assert created.headers["Location"].startswith("https://api.example.com:8443/api/entities/")
    listing = client.get("/api/entities", headers=headers)
    assert listing.headers["Link"].startswith("<https://api.example.com:8443/api/entities?")


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"Host": "api.example.com.evil.example"},
        {"Host": "api.example.com", "X-Forwarded-Host": "evil.example"},
    ],
)
def test_an_unknown_host_writes_nothing_and_is_a_400_problem(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    def stored() -> int:
        listing = client.get("/api/entities", headers={"Host": "api.example.com"})
        return int(listing.get_json()["meta"]["total"])

    before = stored()
    refused = client.post(
        "/api/entities", json={"name": "a"}, headers={**headers, "X-Request-ID": "host-1"}
    )
    assert refused.status_code == 400
    assert refused.content_type == "application/problem+json"
    problem = refused.get_json()
    assert problem["requestId"] == "host-1" and problem["instance"] == "/api/entities"
    assert "Location" not in refused.headers
    listing = client.get("/api/entities", headers=headers)
    assert listing.status_code == 400
    assert stored() == before


# -- under gunicorn ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    migrate(database_url, "entity_api")  # its migration line to head
    env = {"DATABASE_URL": database_url, "ALLOWED_HOSTS": HOSTS, "TRUSTED_PROXY_HOPS": "1"}
    with running_server("entity_api", env=env) as url:
        yield url


TOKEN = server_token("host-user", "entity:read entity:write")


def post(server: str, host_headers: str) -> tuple[int, dict[str, str], Any]:
    body = b'{"name": "over http"}'
    request = (
        f"POST /api/entities HTTP/1.1\r\n{host_headers}"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    status, headers, raw = raw_exchange(server, request)
    return status, headers, json.loads(raw)


def test_over_http_an_unknown_host_is_a_400_problem(server: str) -> None:
    for host_headers in ("Host: evil.example\r\n", "Host: 127.0.0.1\r\nX-Forwarded-Host: evil\r\n"):
        status, headers, body = post(server, host_headers)
        assert status == 400, host_headers
        assert headers["content-type"] == "application/problem+json"
        assert body["requestId"] == headers["x-request-id"]


def test_over_http_location_is_on_the_allowed_host(server: str) -> None:
    status, headers, body = post(server, "Host: API.example.com\r\n")
    assert status == 201
    assert headers["location"] == f"http://api.example.com/api/entities/{body['data']['id']}"
