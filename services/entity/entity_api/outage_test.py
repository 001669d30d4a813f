"""The database down and back, under real gunicorn: PostgreSQL behind a TCP
proxy this test stops and starts (the machine's server is never touched).

While it is down, reads and writes are 503 problems with ``Retry-After``,
answered within a bounded time and logged once; when it is back, the same
process serves again, with no restart. PostgreSQL only.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

import httpx
import pytest
import sqlalchemy as sa

from core.auth import DEV_JWT_SECRET, mint_token
from core.process import start_service, stop_service, wait_until_healthy
from core.testing import migrate
from entity.db import db

HEADERS = {
    "Authorization": "Bearer " + mint_token(DEV_JWT_SECRET, "ops", "entity:read entity:write")
}


class Proxy:
    """A TCP proxy on a port of its own to *upstream*; `stop` closes the port
    and cuts every connection (as a server that went away), `start` opens it
    again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0  # a free one at the first start, the same one after
        self.listener: socket.socket | None = None
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self.listener is not None:
            # shutdown first: close alone leaves a thread blocked in accept()
            # with the socket still listening.
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            for connection in self.open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self.open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@pytest.fixture(scope="module")
def system(database_url: str) -> Iterator[dict[str, Any]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("the outage is of a database server; DATABASE_URL names no PostgreSQL")
    migrate(database_url, "entity_api")  # its migration line to head
    url = sa.engine.make_url(database_url)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    output: IO[bytes] = tempfile.TemporaryFile()
    started = start_service(
        "entity_api", env={"DATABASE_URL": proxied}, args=("--workers", "1"), output=output
    )
    process, base = started.process, started.url
    try:
        wait_until_healthy(base, process)
        yield {"url": base, "proxy": proxy, "output": output}
    finally:
        stop_service(process)
        proxy.stop()
        output.close()


def log_of(system: dict[str, Any]) -> str:
    output: IO[bytes] = system["output"]
    output.seek(0)
    return output.read().decode(errors="replace")


def test_the_database_down_is_503_and_back_with_no_restart(system: dict[str, Any]) -> None:
    http = httpx.Client(base_url=system["url"], headers=HEADERS, timeout=30)
    created = http.post("/api/entities", json={"name": "before"})
    assert created.status_code == 201
    location = created.headers["Location"]
    assert http.get("/api/entities").status_code == 200

    system["proxy"].stop()
    requests: list[tuple[str, str, dict[str, str] | None]] = [
        ("GET", "/api/entities", None),
        ("GET", location, None),
        ("POST", "/api/entities", {"name": "during"}),
        ("PATCH", location, {"purpose": "during"}),
        ("GET", "/api/entities", None),
    ]
    for method, path, body in requests:
        started = time.monotonic()
        response = http.request(method, path, json=body)
        assert response.status_code == 503, response.text
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["Retry-After"] == "5"
        assert response.json()["requestId"]
        assert time.monotonic() - started < 10  # bounded, not a hang
    assert http.get("/readyz").status_code == 503
    assert log_of(system).count("database unavailable") == 1  # once per outage

    system["proxy"].start()
    deadline = time.monotonic() + 15
    while http.get("/api/entities").status_code != 200:
        assert time.monotonic() < deadline, "the service did not recover by itself"
        time.sleep(0.2)
    assert http.get(location).json()["data"]["name"] == "before"
    assert http.post("/api/entities", json={"name": "after"}).status_code == 201
    assert http.get("/readyz").status_code == 200
    assert "database reachable again" in log_of(system)


def test_an_exhausted_pool_is_a_503_within_the_pool_timeout(
    app_factory: Any, database_url: str
) -> None:
    """On either database: with every connection taken, a request waits at
    most ``pool_timeout`` and is a 503, not a hang."""
    options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.5}
    app = app_factory(
        env="test",
        overrides={"SQLALCHEMY_DATABASE_URI": database_url, "SQLALCHEMY_ENGINE_OPTIONS": options},
    )
    migrate(database_url, "entity_api")  # its migration line to head
    with app.app_context():
        held = db.engine.connect()  # the pool's one connection
    try:
        client = app.test_client()
        started = time.monotonic()
        response = client.get("/api/entities", headers=HEADERS)
        assert response.status_code == 503, response.get_json()
        assert response.headers["Retry-After"] == "5"
        assert time.monotonic() - started < 5
    finally:
        held.close()
    assert app.test_client().get("/api/entities", headers=HEADERS).status_code == 200
    with app.app_context():
        db.engine.dispose()
