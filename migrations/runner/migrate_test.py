"""The migration runner: two at once on PostgreSQL queue on the lock, both succeed."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

import migrate
from entity_migrations import line as entity_line


def run_runner(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", migrate.__name__],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def waiting_on_lock(connection: sa.Connection) -> int:
    return int(
        connection.scalar(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND ((classid::bigint << 32) | objid::bigint) = :key"
            ),
            {"key": migrate.LOCK_KEY},
        )
    )


def test_two_runners_at_once_queue_on_the_lock_and_both_succeed(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the advisory lock is PostgreSQL's; DATABASE_URL names no PostgreSQL")
    head = ScriptDirectory.from_config(entity_line.make_config(database_url)).get_current_head()
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    holder = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        # The test holds the lock first, so both runners start while it is taken.
        holder.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": migrate.LOCK_KEY})
        runners = [run_runner(database_url), run_runner(database_url)]
        deadline = time.monotonic() + 60
        while waiting_on_lock(holder) < 2:
            assert all(r.poll() is None for r in runners), "a runner did not wait for the lock"
            assert time.monotonic() < deadline, "the runners never queued on the lock"
            time.sleep(0.1)
        assert not sa.inspect(holder).has_table("entities")
        holder.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": migrate.LOCK_KEY})
        outputs = [r.communicate(timeout=120)[0] for r in runners]
        assert [r.returncode for r in runners] == [0, 0], outputs
    finally:
        holder.close()
    assert all("waiting" in output for output in outputs), outputs
    upgraded = [o for o in outputs if f"entity: upgraded base -> {head}" in o]
    found = [o for o in outputs if f"entity: at head ({head})" in o]
    assert (len(upgraded), len(found)) == (1, 1), outputs
    inspector = sa.inspect(engine)
    assert inspector.has_table("entities")
    with engine.connect() as connection:
        versions = connection.scalars(
            sa.text(f"SELECT version_num FROM {entity_line.version_table}")
        ).all()
    assert versions == [head]
    engine.dispose()


def test_prod_refuses_to_migrate_without_a_database_url() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", migrate.__name__],
        env={**env, "PYTHONPATH": os.pathsep.join(sys.path), "APP_ENV": "prod"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "without DATABASE_URL" in result.stderr


def test_sqlite_migrates_without_a_lock(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/runner.db"
    migrate.upgrade_all(url)
    migrate.upgrade_all(url)  # a second run finds head
    engine = sa.create_engine(url)
    assert sa.inspect(engine).has_table("entities")
    engine.dispose()
