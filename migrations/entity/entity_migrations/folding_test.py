"""Revision 0002 on a table with rows: every row folded (in batches), the
folds NOT NULL where their sources are, and no id reused after it, on SQLite
(whose ALTER copies the table) as on PostgreSQL."""

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from core.folding import BACKFILL_BATCH, fold
from entity_migrations import line

ROWS = 2 * BACKFILL_BATCH + 1
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
COLUMNS = ("id", "name", "purpose", "owner_id", "created_at", "updated_at", "version")
FOLDS = ("name_folded", "purpose_folded", "owner_id_folded")
entities = sa.table("entities", *(sa.column(name) for name in COLUMNS))  # as 0001 made it
folded = sa.table("entities", *(sa.column(name) for name in COLUMNS + FOLDS))  # as 0002 does


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    found = sa.create_engine(database_url)
    yield found
    command.downgrade(line.make_config(database_url), "base")
    found.dispose()


def row(i: int, **extra: object) -> dict[str, object]:
    return {
        "name": f"Straße {i}",
        "purpose": "ΟΔΟΣ" if i % 2 else None,
        "owner_id": "Ünal" if i % 3 else None,
        "created_at": NOW,
        "updated_at": NOW,
        "version": 1,
        **extra,
    }


def test_0002_folds_every_row_and_keeps_the_ids(engine: sa.Engine, database_url: str) -> None:
    config = line.make_config(database_url)
    command.upgrade(config, "0001")
    with engine.begin() as conn:
        conn.execute(entities.insert(), [row(i) for i in range(1, ROWS + 1)])
        conn.execute(entities.delete().where(entities.c.id == ROWS))  # the last id, gone
        # The first batch's rows rewritten: PostgreSQL stores their new
        # versions after the others, so a read in storage order is not in id order.
        conn.execute(entities.update().where(entities.c.id <= BACKFILL_BATCH).values(version=2))
    reads: list[str] = []

    def count_reads(conn: object, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "entities.id >" in statement:
            reads.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", count_reads)
    try:
        command.upgrade(config, "0002")
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", count_reads)
    # A batch at a time, in id order: two full batches, then none left.
    assert len(reads) == 3 and all("ORDER BY entities.id" in r for r in reads)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(folded).order_by(folded.c.id)).all()
    assert len(stored) == ROWS - 1
    for r in stored:
        assert r.name_folded == fold(r.name)
        assert r.purpose_folded == (None if r.purpose is None else fold(r.purpose))
        assert r.owner_id_folded == (None if r.owner_id is None else fold(r.owner_id))
    assert stored[0].name_folded == "strasse 1" and stored[0].purpose_folded == "οδοσ"

    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(entities.insert(), row(0))  # no name_folded: refused
    with engine.begin() as conn:
        new = conn.execute(
            folded.insert().values(row(0, name_folded="strasse 0")).returning(folded.c.id)
        ).scalar_one()
    assert new > ROWS  # never reused
    inspector = sa.inspect(engine)
    assert {"ix_entities_name", "ix_entities_created_at"} <= {
        i["name"] for i in inspector.get_indexes("entities")
    }
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            ddl = conn.scalar(sa.text("SELECT sql FROM sqlite_master WHERE name = 'entities'"))
        assert "AUTOINCREMENT" in ddl

    command.downgrade(config, "0001")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("entities")}
    assert not set(FOLDS) & columns
    with engine.begin() as conn:
        again = conn.execute(entities.insert().values(row(0)).returning(entities.c.id)).scalar_one()
        assert conn.scalar(sa.select(sa.func.count()).select_from(entities)) == ROWS + 1
    assert again > new
