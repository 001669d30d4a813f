"""Thousands of slow clients (slowloris) at the gateway under real gunicorn.

Slow connections each send a request line, then one byte of a header a
second, from a child process; meanwhile this process times a few hundred
ordinary requests to ``/healthz`` on fresh connections. The gateway (one
worker) must hold every slow connection, keep answering within 100 ms at the
99th percentile, and close each slow connection with a 408 once its head is
``HEAD_TIMEOUT`` late, not before. It prints what it measured.

By default 500 slow connections and a 5 s ``HEAD_TIMEOUT`` (about 10 s);
``RUN_SLOW_CLIENTS=1`` (CI) runs it at scale, about 30 s: 5,000 connections,
five times what gunicorn's default ``worker_connections`` holds, and the
default 10 s. The timed requests go on while every slow connection is still
open (up to a second before the first head times out): as many as fit, at
least `MIN_REQUESTS`.
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing
import os
import resource
import selectors
import socket
import statistics
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import cast

import pytest

from core.testing import running_server

AT_SCALE = os.environ.get("RUN_SLOW_CLIENTS") == "1"
SLOW_CLIENTS = 5000 if AT_SCALE else 500
HEAD_TIMEOUT = 10.0 if AT_SCALE else 5.0
REQUESTS = 1000 if AT_SCALE else 400
MIN_REQUESTS = 200
P99_BOUND = 0.100


def _raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    _raise_open_files()
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < SLOW_CLIENTS + 1000:
        pytest.skip(f"{SLOW_CLIENTS} connections need more open files than {soft}")
    env = {
        "HEAD_TIMEOUT": str(HEAD_TIMEOUT),
        "ENTITY_URL": "http://127.0.0.1:9",
        "MATH_URL": "http://127.0.0.1:9",
    }
    with running_server("gateway_api", env=env) as url:
        yield url


def slow_clients(port: int, count: int, control: Connection) -> None:
    """The child: open *count* connections, trickle their heads, and report
    how many are open when asked, then how each ended (408, closed, when)."""
    _raise_open_files()
    selector = selectors.DefaultSelector()
    opened: dict[socket.socket, float] = {}  # when it connected: its head began later
    connected: list[socket.socket] = []

    def settle(timeout: float) -> None:
        for key, _ in selector.select(timeout=timeout):
            sock = cast(socket.socket, key.fileobj)
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                sock.send(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Slow: ")
                connected.append(sock)
            selector.modify(sock, selectors.EVENT_READ)

    # Paced, so that the gateway accepts them as they come: a full listen
    # backlog would drop the timed requests' SYNs (a second lost each).
    for start in range(0, count, 100):
        for _ in range(start, min(start + 100, count)):
            sock = socket.socket()
            sock.setblocking(False)
            opened[sock] = time.monotonic()
            sock.connect_ex(("127.0.0.1", port))
            selector.register(sock, selectors.EVENT_WRITE)
        settle(0.04)
    deadline = time.monotonic() + 20
    while len(connected) < count and time.monotonic() < deadline:
        settle(0.5)
    control.send(len(connected))

    answers: dict[socket.socket, bytes] = {sock: b"" for sock in connected}
    ended: dict[socket.socket, float] = {}
    tick, next_tick = 0, time.monotonic() + 0.05
    reported = False
    give_up = time.monotonic() + HEAD_TIMEOUT + 15
    while len(ended) < len(connected) and time.monotonic() < give_up:
        if not reported and control.poll():
            control.recv()
            control.send(len(connected) - len(ended))
            reported = True
        for key, _ in selector.select(timeout=0.05):
            sock = cast(socket.socket, key.fileobj)
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if data:
                answers[sock] += data
            elif sock not in ended:
                ended[sock] = time.monotonic()
                selector.unregister(sock)
        if time.monotonic() >= next_tick:  # one byte a second on each, a 20th every 50 ms
            for sock in connected[tick % 20 :: 20]:
                if sock not in ended:
                    with contextlib.suppress(OSError):
                        sock.send(b"a")
            tick, next_tick = tick + 1, next_tick + 0.05
    if not reported:
        control.recv()
        control.send(len(connected) - len(ended))
    lifetimes = [ended[sock] - opened[sock] for sock in ended]
    timed_out = sum(answer.startswith(b"HTTP/1.1 408 ") for answer in answers.values())
    control.send((len(ended), timed_out, min(lifetimes, default=0), max(lifetimes, default=0)))
    for sock in opened:
        sock.close()


def timed_requests(url: str, count: int, until: float) -> list[float]:
    """The durations of up to *count* GETs of ``/healthz``, each on a fresh
    connection, made before `time.monotonic` reaches *until*."""
    host, port = url.removeprefix("http://").split(":")
    durations: list[float] = []
    while len(durations) < count and time.monotonic() < until:
        started = time.perf_counter()
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        body = response.read()
        connection.close()
        durations.append(time.perf_counter() - started)
        assert (response.status, body) == (200, b"ok")
    return durations


def test_thousands_of_slow_heads_neither_stall_the_gateway_nor_outlive_their_timeout(
    gateway: str, capsys: pytest.CaptureFixture[str]
) -> None:
    port = int(gateway.rsplit(":", 1)[1])
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    child = multiprocessing.get_context("fork").Process(
        target=slow_clients, args=(port, SLOW_CLIENTS, theirs), daemon=True
    )
    began = time.monotonic()  # no slow head began before this
    child.start()
    try:
        connected = ours.recv()
        assert connected == SLOW_CLIENTS
        durations = timed_requests(gateway, REQUESTS, until=began + HEAD_TIMEOUT - 1)
        ours.send("how many are open?")
        held_open = ours.recv()
        closed, timed_out, shortest, longest = ours.recv()
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
    assert len(durations) >= MIN_REQUESTS
    quantiles = statistics.quantiles(durations, n=100)
    p50, p99 = statistics.median(durations), quantiles[98]
    with capsys.disabled():  # the figures, whether it passes or not
        print(
            f"\n{len(durations)} requests to /healthz beside {held_open} slow connections"
            f" held open: "
            f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {max(durations) * 1000:.1f} ms; "
            f"then {closed} slow connections closed by the gateway ({timed_out} with a 408), "
            f"{shortest:.1f}-{longest:.1f} s after their head began (HEAD_TIMEOUT {HEAD_TIMEOUT:g} s)"
        )
    assert held_open == SLOW_CLIENTS  # none refused, none dropped early
    assert p99 < P99_BOUND
    assert closed == SLOW_CLIENTS and timed_out == SLOW_CLIENTS
    # Each head began after its connection; the gateway may accept late under load.
    assert shortest >= HEAD_TIMEOUT - 0.05 and longest <= HEAD_TIMEOUT + 10
