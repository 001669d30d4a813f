"""The core pytest plugin: ``app``, ``client`` and ``db`` for every service's tests.

Loaded by the repository's root ``conftest.py``, so no test imports fixtures.
``auth_headers`` makes bearer-token headers for a subject and scopes.
`assert_document` holds a service's swagger document to the one committed
beside its tests.
A service's ``conftest.py`` provides ``app_factory``, its ``create_app`` (the
plugin builds the app from it in the ``test`` environment), and
``client_scopes``, the scopes of the ``client`` fixture's token.

`Hanging` is a server that accepts and never answers. `running_server` starts a service's package (its serve main) under real gunicorn on a
free port, for tests that need real HTTP; `serving` serves a WSGI app over
real HTTP from a thread of the test process (an upstream for the gateway).

Databases: each test module gets a database of its own, an SQLite file in a
temporary folder, or, when ``DATABASE_URL`` names PostgreSQL, a schema of its
own in that database (dropped at the end), so parallel test processes never
meet, nor modules run in one process (what a server of one module leaves is
not another's). A service's tables are made by its migration line, upgraded
to head once per database (`migrate`), as production makes them: the tests run on
the schema the migrations build, not on one derived from the models. After
each test every row is deleted (`empty_tables`), so each test starts from
empty tables and may commit freely; ids are not reset, as they never are.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import json
import os
import re
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from werkzeug.serving import make_server

from .auth import DEV_JWT_SECRET, mint_token
from .database import scratch_database
from .process import ServiceError, start_service, stop_service, wait_until_healthy
from .raw_requests import exchange, split_answer

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication  # pants: no-infer-dep

    from .migrations import MigrationLine

AppFactory = Callable[..., Flask]
AuthHeaders = Callable[..., dict[str, str]]

_created: set[tuple[str, str]] = set()  # (database, line or metadata) made


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this test module's own (see the module docstring)."""
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
    if not migrate(database_url, flask_app.import_name):
        # An app that is no service of the registry (core's own test app):
        # it has no migration line, only its models.
        with flask_app.app_context():
            key = (database_url, f"metadata-{id(ext.metadata)}")
            if key not in _created:
                ext.create_all()
                _created.add(key)
    try:
        yield flask_app
    finally:
        with flask_app.app_context():
            ext.session.remove()
            empty_tables(ext.engine, ext.metadata)
            ext.engine.dispose()


def migration_line(package: str) -> MigrationLine | None:
    """The migration line of the service declared in *package* (``entity_api``),
    found by its registry entry (``<name>_migrations``); None when *package*
    declares no service with a database, or is no package at all (an app a
    test declares in place).

    The line is imported by name: a service's tests depend on it in their
    BUILD file (inference cannot see it); without that, this fails saying so.
    """
    from .service import Service

    try:
        declared = importlib.import_module(package)
    except ModuleNotFoundError as error:
        if error.name != package:
            raise
        return None  # an app a test declares in place (core's own tests)
    service = getattr(declared, "service", None)
    if not isinstance(service, Service) or service.deployable.migrations is None:
        return None
    name = service.deployable.migrations
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        pytest.fail(
            f"{service.name}: its tables come from its migration line {name}, which these"
            f" tests cannot import: their BUILD target must depend on"
            f" migrations/{service.name}/{name}."
        )
    line: MigrationLine = module.line
    return line


def migrate(database_url: str, package: str) -> bool:
    """Make the tables of the service declared in *package* on *database_url*:
    its migration line to head, once per process and database. False if the
    package declares no service with a database (nothing done)."""
    line = migration_line(package)
    if line is None:
        return False
    key = (database_url, line.name)
    if key not in _created:
        from alembic import command

        command.upgrade(line.make_config(database_url), "head")
        _created.add(key)
    return True


def empty_tables(engine: sa.Engine, metadata: sa.MetaData) -> None:
    """Delete every row of *metadata*'s tables (children first); the tables,
    their sequences and the migrations' version table stay."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


CLIENT_SUBJECT = "owner-1"
"""The subject of the ``client`` fixture's token, the owner of what it creates."""

SERVER_TOKEN_LIFETIME = 7 * 24 * 3600
"""Seconds a `server_token` is good for: as long as any test process lives
(a mutation run keeps one for hours), not the hour of a default token."""


def server_token(subject: str, scopes: str) -> str:
    """A token that a module's tests send to the servers they start (signed
    with the dev secret those servers use): ``TOKEN = server_token("u", "entity:read")``."""
    return mint_token(DEV_JWT_SECRET, subject, scopes, lifetime=SERVER_TOKEN_LIFETIME)


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
    package: str,
    *,
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = ("--workers", "1"),
    timeout: float = 30,
) -> Iterator[str]:
    """Run *package*'s serve main (gunicorn, one worker unless *args*, its
    arguments, say otherwise) on a free port; yield its URL.

    On exit the master must stop cleanly on SIGTERM; the test fails otherwise.
    """
    with tempfile.TemporaryFile() as output:
        started = start_service(package, env=env, args=args, output=output)
        process, url = started.process, started.url
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
    (lower-case names) and body. For requests no client library would send
    (`core.raw_requests` has the refusals and the pieces this is made of)."""
    status, headers, body, _ = split_answer(exchange(url, request, timeout))
    return status, headers, body


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


UPDATE_DOCUMENTS = "UPDATE_DOCUMENTS"
"""The environment variable that makes `assert_document` write the documents:
the repository's root (``UPDATE_DOCUMENTS=$PWD ./pants test ::``)."""


# Routes of an app that no API document lists: health, metrics, the
# documents themselves, the docs UI (its page; its files are the "docs."
# blueprint's) and static files.
UNDOCUMENTED_ENDPOINTS = frozenset(
    {"healthz", "readyz", "metrics", "specs", "openapi", "doc", "root", "static"}
)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def assert_openapi(client: FlaskClient) -> None:
    """The app's two documents, ``/swagger`` (Swagger 2.0) and ``/openapi.json``
    (OpenAPI 3.1, `core.openapi.to_openapi` of the first): each valid
    (openapi-spec-validator), and each naming exactly the app's routes: every
    route of its URL map (but `UNDOCUMENTED_ENDPOINTS`) with its methods,
    and no path that is not a route."""
    from openapi_spec_validator import validate

    from .openapi import to_openapi

    swagger = client.get("/swagger")
    openapi = client.get("/openapi.json")
    assert swagger.status_code == openapi.status_code == 200
    assert openapi.mimetype == "application/json"
    assert openapi.get_json() == to_openapi(swagger.get_json())
    routes: dict[str, set[str]] = {}
    for rule in client.application.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED_ENDPOINTS or rule.endpoint.startswith("docs."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        routes.setdefault(path, set()).update(methods)
    for document in (swagger.get_json(), openapi.get_json()):
        validate(document)
        documented = {
            path: {m for m in item if m in _METHODS} for path, item in document["paths"].items()
        }
        assert routes and documented == routes, f"documented {documented}, routed {routes}"


def assert_document(client: FlaskClient, committed: Path) -> None:
    """The app's swagger document must be the one committed at *committed*
    (a file beside the test, ``swagger.json``), byte for byte as
    `document_text` writes it: any change to what a service publishes, its
    own or one that core makes to every service, is seen and made on
    purpose. With ``UPDATE_DOCUMENTS`` set to the repository's root, the
    file there is written instead."""
    response = client.get("/swagger")
    assert response.status_code == 200
    text = document_text(response.get_json())
    relative = committed.resolve().relative_to(Path.cwd())  # the repository's layout
    root = os.environ.get(UPDATE_DOCUMENTS)
    if root:
        (Path(root) / relative).write_text(text)
        return
    update = f"{UPDATE_DOCUMENTS}=$PWD ./pants test {relative.parent}: writes it"
    assert committed.exists(), f"{relative} is missing: {update}"
    expected = committed.read_text()
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), text.splitlines(True), str(relative), "served", n=2
            )
        )
        pytest.fail(
            f"the served document differs from {relative} (if that is meant, {update}):\n{diff}"
        )


def document_text(document: Any) -> str:
    """A document as committed: JSON, keys sorted, two spaces, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
