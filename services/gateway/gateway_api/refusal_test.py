"""What the gateway's server refuses before the proxy sees it, over raw
sockets under real gunicorn (`core.gevent_worker.PyWSGIWorker`): problem
documents at the same bytes as the services', one answer per broken
request, and heads that come too slowly cut off."""

import socket
import time
from collections.abc import Iterator

import pytest

from core.raw_requests import (
    FIELD_SIZE_LIMIT,
    HOST,
    LIMITS,
    LINE_LIMIT,
    REFUSED,
    exchange,
    field,
    fields,
    only_problem,
    request_line,
    split_answer,
)
from core.testing import running_server
from gateway.testing import Upstream, recording_upstream

HEAD_TIMEOUT = 1.0


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
    env = {"ENTITY_URL": recorder.url, "MATH_URL": recorder.url, "HEAD_TIMEOUT": str(HEAD_TIMEOUT)}
    with running_server("gateway_api", env=env) as url:
        yield url


@pytest.mark.parametrize("kind", list(REFUSED))
def test_a_refused_head_is_one_problem_document(server: str, kind: str) -> None:
    data, status = REFUSED[kind]
    only_problem(exchange(server, data), status)


@pytest.mark.parametrize("kind", list(REFUSED))
def test_a_refused_head_reaches_no_upstream(server: str, upstream: Upstream, kind: str) -> None:
    data, status = REFUSED[kind]
    only_problem(exchange(server, data.replace(b"/healthz", b"/api/entities", 1)), status)
    assert upstream.requests == []


@pytest.mark.parametrize("limit", list(LIMITS))
def test_each_limit_passes_at_its_byte_and_refuses_one_over(server: str, limit: str) -> None:
    at, over, status = LIMITS[limit]
    assert split_answer(exchange(server, at))[:3:2] == (200, b"ok")
    only_problem(exchange(server, over), status)


def test_at_the_limits_a_request_goes_up_whole_and_a_byte_over_none_does(
    server: str, upstream: Upstream
) -> None:
    # Fewer fields than the limit: the gateway adds its X-Forwarded-* on the way.
    at = request_line(LINE_LIMIT, "/api/entities") + fields(90) + field(FIELD_SIZE_LIMIT)
    assert split_answer(exchange(server, at + b"\r\n"))[0] == 200
    [sent] = upstream.requests
    assert len(sent.target) == LINE_LIMIT - len("GET  HTTP/1.1")
    assert len(sent.headers["X-Pad"]) == FIELD_SIZE_LIMIT - len("X-Pad: \r\n")
    assert sent.headers["X-Field-88"] == "a"
    over = request_line(LINE_LIMIT, "/api/entities") + fields(90) + field(FIELD_SIZE_LIMIT + 1)
    only_problem(exchange(server, over + b"\r\n"), 431)
    assert len(upstream.requests) == 1


BROKEN_BODIES = {
    "shorter than its Content-Length": b'Content-Length: 100\r\n\r\n{"name": "x"',
    "a malformed chunk": b"Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
    "chunks that end early": b'Transfer-Encoding: chunked\r\n\r\n40\r\n{"name"',
}


@pytest.mark.parametrize("broken", list(BROKEN_BODIES))
def test_a_broken_body_gets_one_answer_and_the_connection_closes(
    server: str, upstream: Upstream, broken: str
) -> None:
    """What follows a broken body on the connection is no request: before,
    gevent read the rest of a malformed chunk as one and appended its own 400."""
    head = b"POST /api/entities HTTP/1.1\r\n" + HOST + b"Content-Type: application/json\r\n"
    document = only_problem(exchange(server, head + BROKEN_BODIES[broken]), 400)
    assert document["instance"] == "/api/entities"
    assert upstream.requests == []


def slow_head(server: str, first: bytes, trickle: bytes) -> tuple[bytes, float]:
    """Send *first*, then *trickle* a byte at a time; return what the server
    answered until it closed, and after how long."""
    host, port = server.removeprefix("http://").split(":")
    started = time.monotonic()  # the server's clock for this head starts later
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(first)
        answer = b""
        connection.settimeout(0.2)
        while time.monotonic() - started < HEAD_TIMEOUT + 5:
            try:
                if trickle:
                    connection.sendall(trickle)
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # reset after the answer
                break
            if not chunk:
                break
            answer += chunk
        return answer, time.monotonic() - started


def test_a_head_slower_than_the_timeout_is_cut_off_with_a_408(server: str) -> None:
    answer, waited = slow_head(server, b"GET /healthz HTTP/1.1\r\n" + HOST, b"X")
    document = only_problem(answer, 408)
    assert "did not arrive" in document["detail"]
    assert HEAD_TIMEOUT - 0.05 <= waited < HEAD_TIMEOUT + 3  # timers may fire a tick early


@pytest.mark.parametrize(
    "first",
    [b"", b"GET /heal", b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n"],
    ids=["idle from the start", "stuck in its request line", "idle after a request"],
)
def test_an_idle_connection_is_closed_after_the_timeout(server: str, first: bytes) -> None:
    answer, waited = slow_head(server, first, b"")
    if first.endswith(b"\r\n\r\n"):  # the one answer, then nothing
        status, _, body, after = split_answer(answer)
        assert (status, body, after) == (200, b"ok", b"")
    else:
        assert answer == b""
    assert HEAD_TIMEOUT - 0.05 <= waited < HEAD_TIMEOUT + 3  # timers may fire a tick early
