"""The gateway's own routes: health, readiness, docs, merged swagger, rate limits."""

import json
import os
import re
import uuid

import httpx
import pytest
import redis
from flask import Flask
from openapi_spec_validator import validate

from core.openapi import to_openapi
from gateway.testing import Upstream
from gateway_api.app import SERVICES, create_app

# Every service of the registry, at a host of its name (a mock transport answers).
URLS = {service.url_setting: f"http://{service.name}" for service in SERVICES}
NAMES = sorted(service.name for service in SERVICES)

ENTITY_DOC = {
    "swagger": "2.0",
    "info": {"title": "Entity", "version": "1"},
    "paths": {"/api/entities": {"get": {"responses": {"200": {"description": "OK"}}}}},
}


def make(down: frozenset[str] = frozenset(), **overrides: object) -> Flask:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host in down:
            raise httpx.ConnectError("refused")
        if request.url.path == "/swagger":
            return httpx.Response(200, json=ENTITY_DOC if request.url.host == "entity" else {})
        return httpx.Response(200, text="ok")

    return create_app(
        env="test",
        overrides={**URLS, **overrides},
        transport=httpx.MockTransport(handler),
    )


def test_healthz_is_the_gateway_itself() -> None:
    response = make(down=frozenset(NAMES)).test_client().get("/healthz")
    assert response.status_code == 200 and response.data == b"ok"


def test_readyz_when_every_upstream_answers() -> None:
    response = make().test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "data": {
            **{name: "ready" for name in NAMES},
            "circuits": {name: "closed" for name in NAMES},
        }
    }
    assert {"entity", "math", "note"} <= set(NAMES)


def test_readyz_names_the_upstreams_that_are_down() -> None:
    response = make(down=frozenset({"math"})).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.get_json()["detail"] == "Not ready: math."


def test_swagger_is_merged_and_names_what_is_missing() -> None:
    spec = make().test_client().get("/swagger").get_json()
    validate(spec)
    assert list(spec["paths"]) == ["/api/entities"]
    # The others' documents had no paths.
    assert spec["x-unavailable-services"] == [name for name in NAMES if name != "entity"]


def test_the_merged_document_is_served_as_openapi_3_1_too() -> None:
    client = make().test_client()
    swagger = client.get("/swagger").get_json()
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    validate(document)
    assert document == to_openapi(swagger)
    assert document["openapi"] == "3.1.0" and list(document["paths"]) == ["/api/entities"]


def test_docs_are_swagger_ui_5_over_both_merged_documents() -> None:
    client = make().test_client()
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<title>API gateway</title>" in html
    urls = re.search(r'"urls": (\[.*?\])', html)
    assert urls and json.loads(urls[1]) == [
        {"name": "OpenAPI 3.1", "url": "/openapi.json"},
        {"name": "Swagger 2.0", "url": "/swagger"},
    ]
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/docs/") for a in assets)
    assert all(client.get(a).status_code == 200 for a in assets)


def test_rate_limit_is_429_with_retry_after(upstream: Upstream) -> None:
    client = make(RATELIMIT_DEFAULT="2/minute", MATH_URL=upstream.url).test_client()
    ok = [client.get("/api/math/sum?a=1&b=2") for _ in range(2)]
    assert [r.status_code for r in ok] == [200, 200]
    assert "Retry-After" not in ok[0].headers
    limited = client.get("/api/math/sum?a=1&b=2")
    assert limited.status_code == 429
    assert limited.content_type == "application/problem+json"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert len(upstream.requests) == 2
    # the gateway's own routes stay available
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_a_malformed_route_table_stops_the_start() -> None:
    with pytest.raises(ValueError, match="prefixes"):
        make(GATEWAY_UPSTREAMS={"x": {"url": "http://x", "prefixes": []}})


@pytest.mark.parametrize("prefix", ["/swagger", "/openapi.json", "/docs", "/readyz", "/metrics"])
def test_a_prefix_over_the_gateways_own_routes_stops_the_start(prefix: str) -> None:
    with pytest.raises(ValueError, match=f"{prefix} covers the gateway's /"):
        make(GATEWAY_UPSTREAMS={"x": {"url": "http://x", "prefixes": [prefix]}})


def test_routes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "GATEWAY_UPSTREAMS", '{"things": {"url": "http://things", "prefixes": ["/api/things"]}}'
    )
    monkeypatch.setenv("RATELIMIT_DEFAULT", "5/second")
    app = make()
    assert app.config["RATELIMIT_DEFAULT"] == "5/second"
    assert app.extensions["gateway"]["routes"].match("/api/things/1").name == "things"
    assert app.extensions["gateway"]["routes"].match("/api/math/sum") is None


def test_rate_limit_storage_down_lets_requests_through(upstream: Upstream) -> None:
    client = make(RATELIMIT_STORAGE_URI="redis://127.0.0.1:9", MATH_URL=upstream.url).test_client()
    assert client.get("/api/math/sum?a=1&b=2").status_code == 200


REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture
def redis_url() -> str:
    """A real Redis; skipped without one, unless ``REQUIRE_REDIS=1`` (CI) fails it."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but no Redis answers at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


def test_counts_in_redis_are_shared_by_every_worker(redis_url: str, upstream: Upstream) -> None:
    # Two apps stand for two worker processes; one client, one count.
    workers = [
        make(RATELIMIT_DEFAULT="3/minute", RATELIMIT_STORAGE_URI=redis_url, MATH_URL=upstream.url)
        for _ in range(2)
    ]
    client = {"REMOTE_ADDR": f"client-{uuid.uuid4().hex}"}  # a count of its own
    statuses = [
        workers[i % 2].test_client().get("/api/math/sum", environ_base=client).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert len(upstream.requests) == 3


def test_metrics_are_for_the_private_networks_not_the_public() -> None:
    # Behind the ingress (one trusted proxy): the client's own address decides.
    client = make(TRUSTED_PROXY_HOPS=1).test_client()
    public = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert public.status_code == 404 and public.content_type == "application/problem+json"
    scraper = client.get("/metrics", headers={"X-Forwarded-For": "10.0.0.7"})
    assert scraper.status_code == 200
    assert b"# TYPE gateway_upstream_request_duration_seconds histogram" in scraper.data
