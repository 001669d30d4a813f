"""The migration runner: every service's alembic line to ``head``, once.

The production path for schemas (the ``migrate`` image, the Compose service of
that name, the Kubernetes Job): services never migrate at start. The database
is ``DATABASE_URL``, shared by every line (each has its own version table);
``APP_ENV=prod`` refuses to run without one, and elsewhere each line goes to
its service's local SQLite file, as the services do.

On PostgreSQL the runner holds a session advisory lock while it migrates,
since alembic takes none of its own: runners started together (two
``compose up``, a Job retried while the first pod still runs) queue on the
lock; the first applies the revisions, the others then find every line at
head and exit 0 too.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import command
from alembic.runtime.migration import MigrationContext

from core.migrations import MigrationLine
from core.registry import read
from deployables import deployables

LOCK_KEY = 0x666C61736B5F6270
"""The advisory lock's key (``flask_bp`` in ASCII), the same for every runner."""


def lines() -> tuple[MigrationLine, ...]:
    """Every service's line, in the registry's order (its BUILD depends on each)."""
    return tuple(
        importlib.import_module(d.migrations).line
        for d in read(deployables()).values()
        if d.migrations
    )


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


def current_revision(engine: sa.Engine, line: MigrationLine) -> str | None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": line.version_table})
        return context.get_current_revision()


def upgrade_all(url: str, only: Sequence[MigrationLine] | None = None) -> None:
    """Bring every line (or *only* these) to head on *url*, under the lock."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with migration_lock(engine):
            for line in lines() if only is None else only:
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
    if os.environ.get("DATABASE_URL"):
        upgrade_all(os.environ["DATABASE_URL"])
        return
    for line in lines():  # dev: each service's own local database
        upgrade_all(line.database_url(), [line])


if __name__ == "__main__":
    main()
