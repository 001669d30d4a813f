"""The service under real gunicorn, as ``services/math:serve`` runs it."""

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

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


def request_counts(server: str) -> dict[tuple[str, str, str], float]:
    status, headers, body = get(f"{server}/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "http_request_duration_seconds_count":
                labels = sample.labels
                found[(labels["route"], labels["method"], labels["status"])] = sample.value
    return found


def test_metrics_add_up_over_every_worker() -> None:
    # Two workers, each replaced after 5 requests: the 47 requests and the
    # scrapes meet at least ten worker processes, each counting its own.
    args = ("--workers", "2", "--max-requests", "5")
    with running_server("math_api", args=args) as server:
        ok, bad = ("/api/math/sum", "GET", "200"), ("/api/math/sum", "GET", "400")
        for i in range(40):
            assert get(f"{server}/api/math/sum?a={i}&b=1")[0] == 200
        for _ in range(7):
            assert get(f"{server}/api/math/sum?a=x&b=1")[0] == 400
        for _ in range(4):  # whichever worker answers the scrape, the same sums
            after = request_counts(server)
            assert (after[ok], after[bad]) == (40, 7)
        metrics = ("/metrics", "GET", "200")
        assert request_counts(server)[metrics] >= 4  # the scrapes count too
