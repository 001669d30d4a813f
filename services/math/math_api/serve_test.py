"""The service under real gunicorn, as ``services/math:serve`` runs it."""

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from core.testing import running_server


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server("math_api") as url:
        yield url


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_sum_over_http(server: str) -> None:
    status, headers, body = get(f"{server}/api/math/sum?a=40&b=2")
    assert status == 200
    assert json.loads(body) == {"data": {"result": 42}}
    assert headers["X-Request-ID"]


def test_bad_input_over_http_is_a_problem(server: str) -> None:
    status, headers, body = get(f"{server}/api/math/sum?a=one&b=2")
    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["errors"] == [{"parameter": "a", "detail": "Not a valid integer."}]


def test_health_swagger_and_docs_over_http(server: str) -> None:
    assert get(f"{server}/healthz")[2] == b"ok"
    assert json.loads(get(f"{server}/swagger")[2])["swagger"] == "2.0"
    status, _, page = get(f"{server}/")
    assert status == 200 and b"swagger-ui" in page
    assert get(f"{server}/docs/swagger-ui-bundle.js")[0] == 200
