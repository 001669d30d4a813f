"""The migration runner: every service's alembic line to ``head``, once.

The production path for schemas (the ``migrate`` image, the Compose service of
that name, the Kubernetes Job): services never migrate at start. The database
is ``DATABASE_URL`` (``APP_ENV=prod`` refuses to run without one; elsewhere
the local SQLite file is the default, as for the services).

On PostgreSQL the runner holds a session advisory lock while it migrates,
since alembic takes none of its own: runners started together (two
``compose up``, a Job retried while the first pod still runs) queue on the
lock; the first applies the revisions, the others then find every line at
head and exit 0 too.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

import entity_migrations
from entity_migrations.cli import database_url as entity_database_url
from entity_migrations.cli import make_config as entity_config

LOCK_KEY = 0x666C61736B5F6270
"""The advisory lock's key (``flask_bp`` in ASCII), the same for every runner."""


@dataclass(frozen=True)
class Line:
    """One service's alembic line: how to configure it, and its version table."""

    name: str
    make_config: Callable[[str], Config]
    version_table: str


LINES: tuple[Line, ...] = (Line("entity", entity_config, entity_migrations.VERSION_TABLE),)


def log(message: str) -> None:
    print(f"migrate: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def migration_lock(engine: sa.Engine) -> Iterator[None]:
    """Hold the runners' advisory lock (PostgreSQL); elsewhere, nothing to hold."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        key = {"key": LOCK_KEY}
        if not connection.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), key):
            log("another runner holds the migration lock; waiting")
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), key)
        log("holding the migration lock")
        try:
            yield
        finally:
            connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), key)


def current_revision(engine: sa.Engine, line: Line) -> str | None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": line.version_table})
        return context.get_current_revision()


def upgrade_all(url: str, lines: Sequence[Line] = LINES) -> None:
    """Bring every line to head on *url*, under the lock."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with migration_lock(engine):
            for line in lines:
                before = current_revision(engine, line)
                command.upgrade(line.make_config(url), "head")
                after = current_revision(engine, line)
                if before == after:
                    log(f"{line.name}: at head ({after})")
                else:
                    log(f"{line.name}: upgraded {before or 'base'} -> {after}")
    finally:
        engine.dispose()


def main() -> None:
    if os.environ.get("APP_ENV") == "prod" and not os.environ.get("DATABASE_URL"):
        log("prod refuses to migrate without DATABASE_URL")
        sys.exit(2)
    upgrade_all(entity_database_url())


if __name__ == "__main__":
    main()
