"""The entity service under real gunicorn, as ``services/entity:serve`` runs it."""

import http.client
import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from core.auth import DEV_JWT_SECRET
from core.testing import migrate, raw_exchange, running_server, server_token


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    migrate(database_url, "entity_api")  # its migration line to head
    with running_server("entity_api", env={"DATABASE_URL": database_url}) as url:
        yield url


TOKEN = server_token("http-user", "entity:read entity:write")


def call(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {TOKEN}", **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, dict(error.headers), json.loads(raw) if raw else None


def test_crud_over_http(server: str) -> None:
    status, headers, body = call("POST", f"{server}/api/entities", {"name": "Over HTTP"})
    assert status == 201
    location = headers["Location"]
    assert location == f"{server}/api/entities/{body['data']['id']}"
    status, headers, body = call("GET", location)
    assert status == 200 and body["data"]["name"] == "Over HTTP"
    etag = headers["ETag"]
    assert call("GET", location, headers={"If-None-Match": etag})[0] == 304
    status, _, body = call("PATCH", location, {"purpose": "p"}, {"If-Match": etag})
    assert status == 200 and body["data"]["purpose"] == "p"
    assert call("PATCH", location, {"purpose": "q"}, {"If-Match": etag})[0] == 412
    status, headers, body = call("GET", f"{server}/api/entities?filter[name][contains]=http")
    assert status == 200 and body["meta"]["total"] == 1 and headers["X-Total-Count"] == "1"
    assert call("DELETE", location)[0] == 204
    assert call("GET", location)[0] == 404


def test_errors_over_http_are_problems(server: str) -> None:
    status, headers, body = call("POST", f"{server}/api/entities", {"name": ""})
    assert status == 422 and headers["Content-Type"] == "application/problem+json"
    assert body["errors"][0]["pointer"] == "/name"
    status, headers, body = call("GET", f"{server}/api/entities?pageSize=1000")
    assert status == 400 and body["errors"][0]["parameter"] == "pageSize"


@pytest.mark.parametrize(
    ("environment", "refusal"),
    [
        ({"JWT_SECRET": "x" * 40}, "refuses to start without DATABASE_URL"),
        ({"DATABASE_URL": "sqlite://"}, "refuses to start with no token key"),
        ({"DATABASE_URL": "sqlite://", "JWT_SECRET": DEV_JWT_SECRET}, "refuses the dev JWT_SECRET"),
        (
            {"DATABASE_URL": "sqlite://", "JWT_SECRET": "x" * 40, "ALLOWED_HOSTS": ""},
            "refuses to start without ALLOWED_HOSTS",
        ),
    ],
)
def test_prod_refuses_to_start_unsafely(environment: dict[str, str], refusal: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from entity_api import create_app; create_app('prod')"],
        env={
            "PATH": "",
            "PYTHONPATH": ":".join(sys.path),
            "SECRET_KEY": "not-the-default",
            "ALLOWED_HOSTS": "api.example.com",
            **environment,
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert refusal in result.stderr


def test_without_a_token_over_http_is_401(server: str) -> None:
    request = urllib.request.Request(f"{server}/api/entities")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 401
    assert info.value.headers["WWW-Authenticate"] == "Bearer"


def chunked_post(server: str, body: list[bytes]) -> int:
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(
        "POST",
        "/api/entities",
        body=iter(body),
        headers={
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            "Authorization": f"Bearer {TOKEN}",
        },
        encode_chunked=True,
    )
    status = connection.getresponse().status
    connection.close()
    return status


def test_a_chunked_body_over_the_limit_is_413(server: str) -> None:
    megabyte = b" " * (1024 * 1024)
    body = [b'{"name": "x", "purpose": "', megabyte, megabyte, b'"}']
    assert chunked_post(server, body) == 413


def test_a_chunked_body_of_exactly_the_limit_is_read(server: str) -> None:
    head, tail = b'{"name": "x", "purpose": "', b'"}'
    padding = b" " * (1024 * 1024 - len(head) - len(tail))
    assert chunked_post(server, [head, padding, tail]) == 422  # read whole: purpose too long


BROKEN_BODIES = {
    "shorter than its Content-Length": (b'Content-Length: 100\r\n\r\n{"name": "x"'),
    "a malformed chunk": b"Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
    "chunks that end early": b'Transfer-Encoding: chunked\r\n\r\n40\r\n{"name"',
}


@pytest.mark.parametrize("broken", list(BROKEN_BODIES))
def test_a_broken_body_is_a_400_problem_and_stores_nothing(server: str, broken: str) -> None:
    head = (
        "POST /api/entities HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {TOKEN}\r\n"
    ).encode()
    status, headers, body = raw_exchange(server, head + BROKEN_BODIES[broken])
    assert status == 400, body
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["requestId"] == headers["x-request-id"]
    assert call("GET", f"{server}/api/entities?filter[name]=x")[2]["meta"]["total"] == 0
