"""Database behaviour that must not depend on which database it is.

`service_database` makes a service's database handle. `scratch_database`
gives a process a database of its own, for tests and
benchmarks: an SQLite file, or a fresh PostgreSQL schema dropped afterwards.
(Text is compared the same on both through `core.folding`: the databases'
own ``lower()`` differ, so no query uses them.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .errors import ServiceUnavailable

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

__all__ = [
    "RETRY_AFTER",
    "engine_options",
    "scratch_database",
    "service_database",
    "unavailable",
    "watch_connections",
]

log = logging.getLogger(__name__)

RETRY_AFTER = "5"
"""Seconds a client is told to wait when the database cannot be reached."""
POOL_TIMEOUT = 5
"""Seconds a request waits for a pooled connection before it is a 503."""
CONNECT_TIMEOUT = 5
"""Seconds a new PostgreSQL connection may take."""

_outage = threading.Event()  # set while this process finds the database unreachable


def service_database() -> SQLAlchemy:
    """A service's own database handle, for its leaf ``db.py``: ``db = service_database()``.

    Its own declarative base, so its own metadata (each service's tables, and
    its migration line, are its own). Nothing is connected until an app binds
    it (`core.service.Service`). ``expire_on_commit=False``: a row just written
    is serialized from what the session holds, not reloaded in a second
    transaction.
    """
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass

    return SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def engine_options(url: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """*options* with the bounds a server database needs: a wait for a pooled
    connection (`POOL_TIMEOUT`; an exhausted pool is a 503, not a hang) and,
    on PostgreSQL, for a new connection (`CONNECT_TIMEOUT`). SQLite has
    neither (its in-memory pool takes no timeout)."""
    found = dict(options)
    if url.startswith("sqlite"):
        return found
    found.setdefault("pool_timeout", POOL_TIMEOUT)
    if url.startswith("postgresql"):
        found["connect_args"] = {
            "connect_timeout": CONNECT_TIMEOUT,
            **found.get("connect_args", {}),
        }
    return found


def unavailable(error: BaseException) -> ServiceUnavailable | None:
    """The 503 for a database that cannot be reached (refused, gone, pool
    exhausted), or None for any other error. The first of an outage is
    logged; the rest are not, until a connection succeeds again."""
    if not isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.TimeoutError):
        return None
    if not _outage.is_set():
        _outage.set()
        log.warning(
            "database unavailable: %s", type(getattr(error, "orig", None) or error).__name__
        )
    return ServiceUnavailable(
        "The database cannot be reached now; try again later.",
        headers={"Retry-After": RETRY_AFTER},
    )


def _reachable(dbapi_connection: Any, connection_record: Any) -> None:
    if _outage.is_set():
        _outage.clear()
        log.warning("database reachable again")


def watch_connections() -> None:
    """Let every new connection end an outage that `unavailable` logged (registers once)."""
    if not sa.event.contains(sa.engine.Engine, "connect", _reachable):
        sa.event.listen(sa.engine.Engine, "connect", _reachable)


@contextlib.contextmanager
def scratch_database(url: str | None, folder: Path, name: str) -> Iterator[str]:
    """A database of its own: in the PostgreSQL that *url* names, a new schema
    (dropped on exit) on the search path; else an SQLite file in *folder*."""
    if not url or not url.startswith("postgresql"):
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    schema = f"{name}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
