"""ALLOWED_HOSTS at the gateway: the proxy and the gateway's own routes refuse a host alike."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.wrappers import Response

from core.testing import raw_exchange, running_server
from gateway.testing import Sent, Upstream, recording_upstream
from gateway_api.app import create_app


def make(upstream: Upstream, env: str = "test", **overrides: Any) -> Flask:
    settings = {"ENTITY_URL": upstream.url, "MATH_URL": upstream.url, "NOTE_URL": upstream.url}
    return create_app(env=env, overrides={**settings, **overrides})


@pytest.fixture
def app(upstream: Upstream) -> Iterator[Flask]:
    yield make(upstream, ALLOWED_HOSTS="api.example.com .example.org [::1]")


def created(upstream: Upstream) -> None:
    """The upstream answers 201 with a Location on itself, as a service does."""

    def answer(sent: Sent) -> Response:
        return Response(b"{}", 201, headers={"Location": f"{upstream.url}/api/entities/1"})

    upstream.handler = answer


@pytest.mark.parametrize(
    "path", ["/api/entities", "/api/math/sum", "/healthz", "/readyz", "/", "/swagger", "/nowhere"]
)
def test_an_unknown_host_is_a_400_problem(
    client: FlaskClient, upstream: Upstream, path: str
) -> None:
    response = client.get(path, headers={"Host": "evil.example", "X-Request-ID": "host-9"})
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 400 and body["requestId"] == "host-9" and body["instance"] == path
    assert response.headers["X-Request-ID"] == "host-9"
    assert upstream.requests == []  # nothing went up, not even a readiness check


def test_the_proxy_and_the_routes_answer_the_same_problem(client: FlaskClient) -> None:
    headers = {"Host": "evil.example", "X-Request-ID": "same"}
    proxied = client.post("/api/entities", json={}, headers=headers).get_json()
    own = client.get("/healthz", headers=headers).get_json()
    assert {**proxied, "instance": None} == {**own, "instance": None}


@pytest.mark.parametrize(
    "host", ["api.example.com", "API.Example.COM:8443", "eu.example.org", "[::1]:8000"]
)
def test_an_allowed_host_is_forwarded_and_carried_by_location(
    client: FlaskClient, upstream: Upstream, host: str
) -> None:
    created(upstream)
    response = client.post("/api/entities", json={}, headers={"Host": host})
    assert response.status_code == 201
    assert response.headers["Location"] == f"http://{host}/api/entities/1"
    [sent] = upstream.requests
    assert sent.headers["X-Forwarded-Host"] == host


def test_behind_an_ingress_the_forwarded_host_is_checked(upstream: Upstream) -> None:
    client = make(upstream, ALLOWED_HOSTS="api.example.com", TRUSTED_PROXY_HOPS=1).test_client()
    created(upstream)
    ingress = {"Host": "gateway:8000", "X-Forwarded-Proto": "https"}
    response = client.post(
        "/api/entities", json={}, headers={**ingress, "X-Forwarded-Host": "api.example.com"}
    )
    assert response.status_code == 201
    assert response.headers["Location"] == "https://api.example.com/api/entities/1"
    assert upstream.requests[0].headers["X-Forwarded-Host"] == "api.example.com"
    refused = client.post(
        "/api/entities", json={}, headers={**ingress, "X-Forwarded-Host": "evil.example"}
    )
    assert refused.status_code == 400 and len(upstream.requests) == 1


def test_dev_forwards_any_host(upstream: Upstream) -> None:
    client = make(upstream, env="dev").test_client()
    created(upstream)
    response = client.post("/api/entities", json={}, headers={"Host": "anything.example"})
    assert response.headers["Location"] == "http://anything.example/api/entities/1"


# -- under gunicorn (gevent) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Upstream]]:
    with recording_upstream() as recorder:
        env = {
            "ENTITY_URL": recorder.url,
            "MATH_URL": recorder.url,
            "NOTE_URL": recorder.url,
            "ALLOWED_HOSTS": "api.example.com,127.0.0.1",
        }
        with running_server("gateway_api", env=env) as url:
            yield url, recorder


@pytest.mark.parametrize("target", ["/api/entities", "/readyz"])
def test_over_http_an_unknown_host_is_a_400_problem(
    server: tuple[str, Upstream], target: str
) -> None:
    url, recorder = server
    recorder.requests.clear()
    request = f"GET {target} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    status, headers, body = raw_exchange(url, request.encode())
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["requestId"] == headers["x-request-id"]
    assert recorder.requests == []


def test_over_http_location_is_on_the_allowed_host(server: tuple[str, Upstream]) -> None:
    url, recorder = server
    created(recorder)
    request = "POST /api/entities HTTP/1.1\r\nHost: API.example.com\r\nContent-Length: 0\r\n"
    status, headers, _ = raw_exchange(url, (request + "Connection: close\r\n\r\n").encode())
    assert status == 201
    assert headers["location"] == "http://API.example.com/api/entities/1"
