"""What gunicorn refuses before the entity service sees it, over raw sockets
under real gunicorn (`core.workers.ThreadWorker`): problem documents at the
limits' exact bytes, and heads that come too slowly cut off."""

import socket
import time
from collections.abc import Iterator

import pytest

from core.raw_requests import HOST, LIMITS, REFUSED, exchange, only_problem, split_answer
from core.testing import migrate, running_server

HEAD_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    migrate(database_url, "entity_api")  # its migration line to head
    env = {"DATABASE_URL": database_url, "HEAD_TIMEOUT": str(HEAD_TIMEOUT)}
    with running_server("entity_api", env=env) as url:
        yield url


@pytest.mark.parametrize("kind", list(REFUSED))
def test_a_refused_head_is_one_problem_document(server: str, kind: str) -> None:
    data, status = REFUSED[kind]
    only_problem(exchange(server, data), status)


@pytest.mark.parametrize("limit", list(LIMITS))
def test_each_limit_passes_at_its_byte_and_refuses_one_over(server: str, limit: str) -> None:
    at, over, status = LIMITS[limit]
    assert split_answer(exchange(server, at))[:3:2] == (200, b"ok")
    only_problem(exchange(server, over), status)


def test_a_head_slower_than_the_timeout_is_cut_off_with_a_408(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    started = time.monotonic()  # the server's clock for this head starts later
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\n" + HOST)
        answer = b""
        connection.settimeout(0.2)
        while time.monotonic() - started < HEAD_TIMEOUT + 5:
            try:
                connection.sendall(b"X")  # a header trickling in
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # reset after the answer
                break
            if not chunk:
                break
            answer += chunk
        waited = time.monotonic() - started
    document = only_problem(answer, 408)
    assert "did not arrive" in document["detail"]
    assert HEAD_TIMEOUT - 0.05 <= waited < HEAD_TIMEOUT + 3  # timers may fire a tick early


def test_a_thread_freed_from_a_slow_head_serves_the_next_request(server: str) -> None:
    """More slow heads than the worker has threads (4): once they are cut
    off, an ordinary request is served."""
    host, port = server.removeprefix("http://").split(":")
    slow = [socket.create_connection((host, int(port)), timeout=10) for _ in range(6)]
    try:
        for connection in slow:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
        started = time.monotonic()
        status, _, body, _ = split_answer(
            exchange(server, b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n")
        )
        assert (status, body) == (200, b"ok")
        print(f"\nserved beside 6 slow heads after {time.monotonic() - started:.2f} s")
    finally:
        for connection in slow:
            connection.close()
