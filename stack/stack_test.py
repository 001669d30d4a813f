"""The real system: gunicorn processes on free ports, called over HTTP.

``test_the_stack_*`` run ``stack.run`` itself. The fault tests start the
services one by one (as the stack does) so they can stop, hang and restart
them under the gateway.
"""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from core.auth import mint_token
from core.process import start_service, stop_service, wait_until_healthy
from core.registry import read
from core.testing import Hanging
from deployables import deployables
from entity_migrations import line as entity_line
from stack.conftest import SECRET


def bearer(subject: str = "e2e", scopes: str = "entity:read entity:write") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, subject, scopes)}"}


def call(base: str, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    kwargs["headers"] = {**bearer(), **kwargs.get("headers", {})}
    if body is not None:
        kwargs["content"] = json.dumps(body)
        kwargs.setdefault("headers", {})["Content-Type"] = "application/json"
    return httpx.request(method, base + path, timeout=15, **kwargs)


# -- the stack itself (the `stack` fixture is in conftest.py) -------------------------


def test_the_stack_migrates_and_serves_entities(stack: str) -> None:
    created = call(stack, "POST", "/api/entities", {"name": "stacked", "purpose": "e2e"})
    assert created.status_code == 201
    location = created.headers["location"]
    assert location.startswith(stack + "/api/entities/")  # through the gateway
    got = call(location, "GET", "")
    assert got.json()["data"]["name"] == "stacked"
    listing = call(stack, "GET", "/api/entities?filter[name][contains]=STACK&sort=-createdAt")
    assert listing.json()["meta"]["total"] == 1
    assert listing.json()["links"]["self"].startswith(stack + "/api/entities?")
    assert call(location, "DELETE", "").status_code == 204


def test_the_stack_serves_notes_about_entities(stack: str) -> None:
    writer = bearer("nina", "note:read note:write entity:read entity:write")
    entity = call(stack, "POST", "/api/entities", {"name": "noted"}, headers=writer).json()["data"]
    created = call(
        stack, "POST", "/api/notes", {"entityId": entity["id"], "body": "Fuse box"}, headers=writer
    )
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert location.startswith(stack + "/api/notes/")  # through the gateway
    note = created.json()["data"]
    assert (note["entityId"], note["body"], note["ownerId"]) == (entity["id"], "Fuse box", "nina")
    listing = call(
        stack, "GET", f"/api/notes?filter[entityId]={entity['id']}&search=FUSE", headers=writer
    )
    assert [n["id"] for n in listing.json()["data"]] == [note["id"]]
    assert listing.json()["links"]["self"].startswith(stack + "/api/notes?")
    stale = created.headers["etag"]
    assert call(location, "PATCH", "", {"body": "Fuses"}, headers=writer).status_code == 200
    late = call(location, "PATCH", "", {"body": "x"}, headers={**writer, "If-Match": stale})
    assert late.status_code == 412
    unknown = call(
        stack, "POST", "/api/notes", {"entityId": 2**31 - 1, "body": "x"}, headers=writer
    )
    assert unknown.status_code == 422
    assert [e["pointer"] for e in unknown.json()["errors"]] == ["/entityId"]
    other = bearer("otto", "note:read note:write entity:read")
    assert call(location, "DELETE", "", headers=other).status_code == 403
    assert call(location, "DELETE", "", headers=writer).status_code == 204


def test_the_stack_serves_sum_swagger_docs_and_errors(stack: str) -> None:
    assert call(stack, "GET", "/api/math/sum?a=1&b=2").json() == {"data": {"result": 3}}
    spec = call(stack, "GET", "/swagger").json()
    validate(spec)
    assert {
        "/api/entities",
        "/api/entities/{entity_id}",
        "/api/math/sum",
        "/api/notes",
        "/api/notes/{note_id}",
    } <= set(spec["paths"])
    assert call(stack, "GET", "/").status_code == 200
    missing = call(stack, "GET", "/api/nothing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    invalid = call(stack, "POST", "/api/entities", {"name": 1})
    assert invalid.status_code == 422
    names = [d.name for d in read(deployables()).services]
    every = {**{name: "ready" for name in names}, "circuits": dict.fromkeys(names, "closed")}
    assert call(stack, "GET", "/readyz").json() == {"data": every}


def test_the_stack_enforces_tokens_signed_with_its_secret(stack: str) -> None:
    anonymous = httpx.get(f"{stack}/api/entities", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    wrong = {
        "Authorization": f"Bearer {mint_token('another-secret-' + 'y' * 32, 'e2e', 'entity:read')}"
    }
    assert call(stack, "GET", "/api/entities", headers=wrong).status_code == 401
    reader = bearer("reader", "entity:read")
    assert call(stack, "GET", "/api/entities", headers=reader).status_code == 200
    assert call(stack, "POST", "/api/entities", {"name": "x"}, headers=reader).status_code == 403
    owner, other, admin = bearer("ann"), bearer("ben"), bearer("root", "entity:admin")
    created = call(stack, "POST", "/api/entities", {"name": "ann's"}, headers=owner)
    path = "/api/entities/" + str(created.json()["data"]["id"])
    assert call(stack, "PATCH", path, {"name": "ben's"}, headers=other).status_code == 403
    assert call(stack, "PATCH", path, {"purpose": "mine"}, headers=owner).status_code == 200
    assert call(stack, "DELETE", path, headers=admin).status_code == 204
    assert httpx.get(f"{stack}/api/math/sum?a=1&b=1", timeout=10).status_code == 200


# -- faults ----------------------------------------------------------------------------


@dataclass
class Service:
    module: str
    env: dict[str, str]
    port: int = 0  # a free one at the first start, the same one after
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        started = start_service(self.module, port=self.port, env=self.env, args=("--workers", "1"))
        self.process, self.port = started.process, started.port
        wait_until_healthy(self.url, self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_service(self.process)
            self.process = None


@pytest.fixture(scope="module")
def system(database_url: str) -> Iterator[dict[str, Any]]:
    from alembic import command

    command.upgrade(entity_line.make_config(database_url), "head")
    hanging = Hanging()
    common = {"LOG_LEVEL": "WARNING", "TRUSTED_PROXY_HOPS": "1", "JWT_SECRET": SECRET}
    entity = Service("entity_api", {**common, "DATABASE_URL": database_url})
    math = Service("math_api", common)
    entity.start()
    math.start()
    upstreams = {
        "entity": {"url": entity.url, "prefixes": ["/api/entities"]},
        "math": {"url": math.url, "prefixes": ["/api/math"]},
        "slow": {"url": f"http://127.0.0.1:{hanging.port}", "prefixes": ["/api/slow"]},
    }
    gateway = Service(
        "gateway_api",
        {
            "LOG_LEVEL": "WARNING",
            "GATEWAY_UPSTREAMS": json.dumps(upstreams),
            "GATEWAY_READ_TIMEOUT": "1",
            "GATEWAY_READY_TIMEOUT": "0.5",
            "GATEWAY_SWAGGER_TTL": "0",
        },
    )
    gateway.start()
    try:
        yield {"gateway": gateway.url, "entity": entity, "math": math}
    finally:
        for service in (gateway, math, entity):
            service.stop()
        hanging.close()
        command.downgrade(entity_line.make_config(database_url), "base")


def test_a_stopped_upstream_is_502_and_heals_when_back(system: dict[str, Any]) -> None:
    gateway, math = system["gateway"], system["math"]
    assert call(gateway, "GET", "/api/math/sum?a=1&b=1").status_code == 200
    math.stop()
    try:
        down = call(gateway, "GET", "/api/math/sum?a=1&b=1")
        assert down.status_code == 502
        assert down.headers["content-type"] == "application/problem+json"
        assert "math" in down.json()["detail"]
        ready = call(gateway, "GET", "/readyz")
        assert ready.status_code == 503
        assert "math" in ready.json()["detail"] and "entity" not in ready.json()["detail"]
        spec = call(gateway, "GET", "/swagger").json()
        validate(spec)
        assert "/api/entities" in spec["paths"] and "/api/math/sum" not in spec["paths"]
        assert "math" in spec["x-unavailable-services"]
        assert call(gateway, "GET", "/api/entities").status_code == 200
    finally:
        math.start()
    assert call(gateway, "GET", "/api/math/sum?a=1&b=1").json() == {"data": {"result": 2}}
    spec = call(gateway, "GET", "/swagger").json()
    assert "/api/math/sum" in spec["paths"]


def test_a_hanging_upstream_is_504_within_the_timeout(system: dict[str, Any]) -> None:
    gateway = system["gateway"]
    started = time.monotonic()
    response = call(gateway, "POST", "/api/slow/things", {"x": 1})
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"
    assert elapsed < 3, elapsed  # read timeout 1 s, plus a little
    # the worker is free again: other routes still answer at once
    assert call(gateway, "GET", "/api/math/sum?a=2&b=2").status_code == 200
    ready = call(gateway, "GET", "/readyz")
    assert ready.status_code == 503 and "slow" in ready.json()["detail"]


def test_a_huge_body_is_413_and_never_reaches_the_service(system: dict[str, Any]) -> None:
    gateway = system["gateway"]
    before = call(gateway, "GET", "/api/entities").json()["meta"]["total"]
    response = call(
        gateway,
        "POST",
        "/api/entities",
        content=b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert call(gateway, "GET", "/api/entities").json()["meta"]["total"] == before


def test_a_burst_over_the_limit_is_429(system: dict[str, Any]) -> None:
    limited = Service(
        "gateway_api",
        {
            "LOG_LEVEL": "WARNING",
            "ENTITY_URL": system["entity"].url,
            "MATH_URL": system["math"].url,
            "RATELIMIT_DEFAULT": "5/minute",
        },
    )
    limited.start()
    try:
        statuses = [call(limited.url, "GET", "/api/math/sum?a=1&b=1").status_code for _ in range(8)]
        assert statuses[:5] == [200] * 5
        assert set(statuses[5:]) == {429}
        over = call(limited.url, "GET", "/api/math/sum?a=1&b=1")
        assert over.headers["content-type"] == "application/problem+json"
        assert int(over.headers["retry-after"]) > 0
        assert call(limited.url, "GET", "/healthz").status_code == 200
    finally:
        limited.stop()


def test_the_stack_refuses_prod_without_a_database_url(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "stack.run"],
        env={
            **env,
            "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path),
            "APP_ENV": "prod",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "prod refuses to start without DATABASE_URL" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no SQLite file was made
