"""The core pytest plugin: ``app``, ``client`` and ``db`` for every service's tests.

Loaded by the repository's root ``conftest.py``, so no test imports fixtures.
``auth_headers`` makes bearer-token headers for a subject and scopes.
A service's ``conftest.py`` provides ``app_factory``, its ``create_app`` (the
plugin builds the app from it in the ``test`` environment), and
``client_scopes``, the scopes of the ``client`` fixture's token.

`Hanging` is a server that accepts and never answers. `running_server` starts a service's package (its serve main) under real gunicorn on a
free port, for tests that need real HTTP; `serving` serves a WSGI app over
real HTTP from a thread of the test process (an upstream for the gateway).

Databases: each test process gets a database of its own, an SQLite file in a
temporary folder, or, when ``DATABASE_URL`` names PostgreSQL, a schema of its
own in that database (dropped at the end), so parallel test processes never
meet. Tables are created once per process; after each test every row is
deleted, so each test starts from empty tables and may commit freely.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from werkzeug.serving import make_server

from .auth import mint_token
from .database import scratch_database
from .process import ServiceError, free_port, start_service, stop_service, wait_until_healthy

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication  # pants: no-infer-dep

AppFactory = Callable[..., Flask]
AuthHeaders = Callable[..., dict[str, str]]

_created: set[tuple[str, int]] = set()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this test process's own (see the module docstring)."""
    folder = tmp_path_factory.mktemp("db")
    with scratch_database(os.environ.get("DATABASE_URL"), folder, "test") as url:
        yield url


@pytest.fixture
def app(app_factory: AppFactory, database_url: str) -> Iterator[Flask]:
    """The service's app in the ``test`` environment, on this process's database."""
    flask_app = app_factory(env="test", overrides={"SQLALCHEMY_DATABASE_URI": database_url})
    ext: SQLAlchemy | None = flask_app.extensions.get("sqlalchemy")
    if ext is None:
        yield flask_app
        return
    with flask_app.app_context():
        key = (database_url, id(ext.metadata))
        if key not in _created:
            ext.create_all()
            _created.add(key)
    try:
        yield flask_app
    finally:
        with flask_app.app_context():
            ext.session.remove()
            with ext.engine.begin() as conn:
                for table in reversed(ext.metadata.sorted_tables):
                    conn.execute(table.delete())
            ext.engine.dispose()


CLIENT_SUBJECT = "owner-1"
"""The subject of the ``client`` fixture's token, the owner of what it creates."""


@pytest.fixture
def client_scopes() -> str:
    """The scopes of the ``client`` fixture's token; none by default (no token).
    A service's ``conftest.py`` names its own: ``return "entity:read entity:write"``."""
    return ""


@pytest.fixture
def client(app: Flask, client_scopes: str, auth_headers: AuthHeaders) -> FlaskClient:
    """A test client of ``app``; with ``client_scopes``, every request carries a
    token of `CLIENT_SUBJECT` with them (tests of auth itself make their own)."""
    test_client = app.test_client()
    if client_scopes:
        token = auth_headers(CLIENT_SUBJECT, client_scopes)["Authorization"]
        test_client.environ_base["HTTP_AUTHORIZATION"] = token
    return test_client


@pytest.fixture
def auth_headers(app: Flask) -> AuthHeaders:
    """Make ``Authorization`` headers: ``auth_headers("alice", "entity:read", lifetime=60)``.

    Tokens are signed with the app's ``JWT_SECRET``; extra keywords become claims.
    """

    def make(
        subject: str = "user-1", scopes: str | list[str] = "", **claims: Any
    ) -> dict[str, str]:
        token = mint_token(app.config["JWT_SECRET"], subject, scopes, **claims)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def db(app: Flask) -> Iterator[SQLAlchemy]:
    """The service's ``SQLAlchemy`` extension, inside an app context."""
    ext: SQLAlchemy | None = app.extensions.get("sqlalchemy")
    if ext is None:
        pytest.fail("db: this service's app has no database (Flask-SQLAlchemy extension).")
    with app.app_context():
        yield ext


@contextlib.contextmanager
def running_server(
    package: str, *, env: Mapping[str, str] | None = None, timeout: float = 30
) -> Iterator[str]:
    """Run *package*'s serve main (gunicorn, one worker) on a free port; yield its URL.

    On exit the master must stop cleanly on SIGTERM; the test fails otherwise.
    """
    port = free_port()
    with tempfile.TemporaryFile() as output:
        process = start_service(package, port=port, env=env, args=("--workers", "1"), output=output)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, process, timeout)
        except ServiceError as error:
            stop_service(process)
            output.seek(0)
            pytest.fail(f"{error}\n{output.read().decode(errors='replace')}")
        try:
            yield url
        finally:
            code = stop_service(process)
            assert code == 0, f"{package} exited with {code}"


class Hanging:
    """A TCP server on a free port that accepts connections and never answers:
    an upstream or a dependency that hangs (`close` ends it)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.connections:
            connection.close()


def raw_exchange(
    url: str, request: bytes, timeout: float = 10
) -> tuple[int, dict[str, str], bytes]:
    """Send *request* (bytes as they go on the wire) to the server at *url*,
    close the sending side, and read the first answer: status, headers
    (lower-case names) and body. For requests no client library would send."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:  # the first answer only, as a client reads it
        body = body[: int(headers["content-length"])]
    return int(status_line.split()[1]), headers, body


@contextlib.contextmanager
def serving(wsgi_app: WSGIApplication) -> Iterator[str]:
    """Serve *wsgi_app* (werkzeug's server, a thread per connection) on a free port.

    Yields its URL; the server runs in a thread of this process until the block
    ends. It closes each connection after one answer: no keep-alive.
    """
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
