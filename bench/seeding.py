"""Many entities fast, for the lists-at-scale run (``--rows N``).

The table is the migrated one (`migrate.upgrade_all` first); its secondary
indexes (every index but the primary key's, the trigram ones included) are
dropped while the rows go in and built again afterwards from their own
definitions, which is faster than maintaining them row by row and leaves the
schema exactly as migrated.

Row ``i`` (ids 1..N, in order) is::

    name      entity 0000123 3fa9c2e1   (the last word: 8 hex digits of md5(str(i)))
    purpose   purpose 42                (i % 100: 100 distinct values)
    owner_id  bench
    created_at  <start> - (N - i) seconds (distinct, one second apart)

so a ``contains`` of three hex digits matches about 0.15 % of the rows and
``zzz`` none. Every text is ASCII, for which SQL's ``lower()`` is
``str.casefold()``: PostgreSQL fills the folded columns in SQL
(``INSERT ... SELECT generate_series``); SQLite gets the rows from Python
(`row`), folded with ``casefold``, in large ``executemany`` batches inside one
transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

import migrate
from bench.references import entities

__all__ = [
    "OWNER",
    "PURPOSES",
    "Seeded",
    "drop_secondary_indexes",
    "name_of",
    "row",
    "secondary_indexes",
    "seed_rows",
]

OWNER = "bench"
PURPOSES = 100
"""Distinct purposes: an equality filter on one keeps 1 % of the rows."""
MIN_WIDTH = 7
"""Digits of the number in a name (more when N needs them)."""
BATCH = 50_000
"""Rows per ``executemany`` on SQLite."""
MAINTENANCE_MEMORY = "512MB"
"""PostgreSQL's ``maintenance_work_mem`` while the indexes are built (GIN builds gain most)."""

_POSTGRES_INSERT = """
INSERT INTO entities (id, name, purpose, owner_id, created_at, updated_at, version,
                      name_folded, purpose_folded, owner_id_folded)
SELECT i, name, purpose, CAST(:owner AS varchar),
       CAST(:start AS timestamptz) - make_interval(secs => CAST(:rows AS integer) - i),
       CAST(:start AS timestamptz), 1, lower(name), lower(purpose), CAST(:owner_folded AS text)
FROM (
    SELECT i,
           'entity ' || lpad(i::text, CAST(:width AS integer), '0') || ' '
               || left(md5(i::text), 8) AS name,
           'purpose ' || (i % CAST(:purposes AS integer)) AS purpose
    FROM generate_series(1, CAST(:rows AS integer)) AS i
) AS generated
ORDER BY i
"""


@dataclass(frozen=True)
class Seeded:
    """What `seed_rows` made and how long each step took."""

    rows: int
    start: dt.datetime
    """``created_at`` of the last row (row ``i`` is ``N - i`` seconds older)."""
    load_s: float
    index_s: float
    analyze_s: float

    @property
    def total_s(self) -> float:
        return self.load_s + self.index_s + self.analyze_s


def width_for(rows: int) -> int:
    """Digits of the number in the names of *rows* rows."""
    return max(MIN_WIDTH, len(str(rows)))


def name_of(i: int, width: int = MIN_WIDTH) -> str:
    """The name of row *i*: ``entity 0000123 3fa9c2e1``."""
    return f"entity {i:0{width}d} {hashlib.md5(str(i).encode()).hexdigest()[:8]}"


def row(i: int, rows: int, start: dt.datetime) -> dict[str, Any]:
    """Row *i* of *rows*, folds included (what PostgreSQL's `_POSTGRES_INSERT` makes)."""
    name, purpose = name_of(i, width_for(rows)), f"purpose {i % PURPOSES}"
    return {
        "id": i,
        "name": name,
        "purpose": purpose,
        "owner_id": OWNER,
        "created_at": start - dt.timedelta(seconds=rows - i),
        "updated_at": start,
        "version": 1,
        "name_folded": name.casefold(),
        "purpose_folded": purpose.casefold(),
        "owner_id_folded": OWNER.casefold(),
    }


def secondary_indexes(conn: sa.Connection) -> dict[str, str]:
    """Every index of ``entities`` but those behind constraints (the primary key):
    the statement that creates each, by name."""
    if conn.dialect.name == "postgresql":
        found = conn.execute(
            sa.text(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
                " JOIN pg_class i ON i.oid = x.indexrelid"
                " WHERE x.indrelid = 'entities'::regclass"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
            )
        )
    else:  # SQLite: automatic (constraint) indexes have no SQL
        found = conn.execute(
            sa.text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = 'entities' AND sql IS NOT NULL"
            )
        )
    return {name: sql for name, sql in found}


def drop_secondary_indexes(conn: sa.Connection) -> dict[str, str]:
    """Drop `secondary_indexes`; return them, to build them again."""
    indexes = secondary_indexes(conn)
    for name in indexes:
        conn.execute(sa.text(f'DROP INDEX "{name}"'))
    return indexes


def _batches(rows: int, start: dt.datetime) -> Iterator[list[dict[str, Any]]]:
    for first in range(1, rows + 1, BATCH):
        yield [row(i, rows, start) for i in range(first, min(first + BATCH, rows + 1))]


def _load(conn: sa.Connection, rows: int, start: dt.datetime) -> None:
    if conn.dialect.name == "postgresql":
        parameters = {
            "owner": OWNER,
            "owner_folded": OWNER.casefold(),
            "start": start,
            "rows": rows,
            "width": width_for(rows),
            "purposes": PURPOSES,
        }
        conn.execute(sa.text(_POSTGRES_INSERT), parameters)
        conn.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('entities', 'id'), :rows)"),
            {"rows": rows},
        )
        return
    for batch in _batches(rows, start):  # SQLite: AUTOINCREMENT follows the ids given
        conn.execute(entities.insert(), batch)


def _analyze(engine: sa.Engine) -> None:
    """Statistics for the planner (PostgreSQL also sets its visibility map, as autovacuum would)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("VACUUM ANALYZE entities"))
        else:
            conn.execute(sa.text("ANALYZE"))


def seed_rows(url: str, rows: int, start: dt.datetime | None = None) -> Seeded:
    """Migrate *url*, then fill ``entities`` with *rows* rows (see the module docstring)."""
    migrate.upgrade_all(url)
    start = start or dt.datetime.now(dt.UTC)
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        began = time.monotonic()
        with engine.begin() as conn:
            indexes = drop_secondary_indexes(conn)
            _load(conn, rows, start)
        loaded = time.monotonic()
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_MEMORY}'"))
            for statement in indexes.values():
                conn.execute(sa.text(statement))
        indexed = time.monotonic()
        _analyze(engine)
        analyzed = time.monotonic()
    finally:
        engine.dispose()
    return Seeded(rows, start, loaded - began, indexed - loaded, analyzed - indexed)
