"""The gateway under real gunicorn, as ``services/gateway:serve`` runs it.

In front of a real upstream that records what reaches it (`gateway.testing`).
"""

import http.client
import json
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.testing import raw_exchange, running_server
from gateway.testing import Upstream, recording_upstream

LIMIT = 1000


@pytest.fixture(scope="module")
def recorder() -> Iterator[Upstream]:
    with recording_upstream() as upstream:
        yield upstream


@pytest.fixture
def upstream(recorder: Upstream) -> Upstream:
    recorder.requests.clear()
    return recorder


@pytest.fixture(scope="module")
def server(recorder: Upstream) -> Iterator[str]:
    env = {
        "ENTITY_URL": recorder.url,
        "MATH_URL": recorder.url,
        "MAX_CONTENT_LENGTH": str(LIMIT),
    }
    with running_server("gateway_api", env=env) as url:
        yield url


def send(
    server: str, method: str, target: str, chunks: list[bytes] | None = None
) -> tuple[int, dict[str, str], bytes]:
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"Content-Type": "application/json"}
    if chunks is not None:
        headers["Transfer-Encoding"] = "chunked"
    connection.request(
        method,
        target,
        body=iter(chunks) if chunks is not None else None,
        headers=headers,
        encode_chunked=chunks is not None,
    )
    response = connection.getresponse()
    answer = response.status, dict(response.headers), response.read()
    connection.close()
    return answer


def test_a_request_goes_up_as_sent_and_comes_back(server: str, upstream: Upstream) -> None:
    status, headers, body = send(server, "GET", "/api/entities/..%2Fhealthz?a=%20b")
    assert status == 200 and json.loads(body) == {"data": {}}
    [sent] = upstream.requests
    assert sent.target == "/api/entities/..%2Fhealthz?a=%20b"
    assert sent.headers["X-Forwarded-For"] == "127.0.0.1"
    assert sent.headers["X-Request-ID"] == headers["X-Request-ID"]


def test_a_chunked_body_of_exactly_the_limit_goes_up(server: str, upstream: Upstream) -> None:
    status, _, _ = send(server, "POST", "/api/entities", [b"x" * 600, b"y" * (LIMIT - 600)])
    assert status == 200
    [sent] = upstream.requests
    assert sent.body == b"x" * 600 + b"y" * (LIMIT - 600)
    assert sent.headers["Content-Length"] == str(LIMIT)


def test_a_chunked_body_over_the_limit_is_413_without_an_upstream_call(
    server: str, upstream: Upstream
) -> None:
    status, headers, body = send(server, "POST", "/api/entities", [b"x" * 600, b"y" * LIMIT])
    assert status == 413
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["requestId"] == headers["X-Request-ID"]
    assert upstream.requests == []


def test_the_gateways_own_routes_answer_beside_the_proxy(server: str) -> None:
    status, _, body = send(server, "GET", "/healthz")
    assert status == 200 and body == b"ok"
    status, headers, _ = send(server, "GET", "/nowhere")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"


BROKEN_BODIES = {
    "shorter than its Content-Length": (
        b"POST /api/entities HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"name": "x"'
    ),
    "a malformed chunk": (
        b"POST /api/entities HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n"
    ),
    "chunks that end early": (
        b"POST /api/entities HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b'Transfer-Encoding: chunked\r\n\r\n40\r\n{"name"'
    ),
}


@pytest.mark.parametrize("broken", list(BROKEN_BODIES))
def test_a_broken_body_is_a_400_problem_and_reaches_no_upstream(
    server: str, upstream: Upstream, broken: str
) -> None:
    status, headers, body = raw_exchange(server, BROKEN_BODIES[broken])
    assert status == 400, body
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["requestId"] == headers["x-request-id"]
    assert upstream.requests == []


def upstream_metrics(server: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The gateway's own samples, by name and labels."""
    status, headers, body = send(server, "GET", "/metrics")
    assert status == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name.startswith("gateway_")
    }


def test_metrics_count_each_upstream_s_requests_and_show_its_circuit(
    server: str, upstream: Upstream
) -> None:
    labels = frozenset({"upstream": "math", "method": "GET", "status": "200"}.items())
    done = ("gateway_upstream_request_duration_seconds_count", labels)
    before = upstream_metrics(server).get(done, 0)
    for _ in range(5):
        assert send(server, "GET", "/api/math/sum?a=1&b=2")[0] == 200
    after = upstream_metrics(server)
    assert after[done] - before == 5
    assert after[("gateway_circuit_state", frozenset({("upstream", "math")}))] == 0
