import datetime as dt

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy

from .model import Entity


def test_entity_is_stored_in_entities(db: SQLAlchemy) -> None:
    assert Entity.__tablename__ == "entities"
    row = Entity(name="Test entity", purpose=None)
    db.session.add(row)
    db.session.commit()
    assert row.id is not None
    assert row.version == 1
    assert row.created_at.tzinfo is not None
    assert row.created_at == row.updated_at or row.updated_at >= row.created_at
    assert dt.datetime.now(dt.UTC) - row.created_at < dt.timedelta(minutes=1)


def test_version_counts_updates(db: SQLAlchemy) -> None:
    row = Entity(name="a")
    db.session.add(row)
    db.session.commit()
    row.name = "b"
    db.session.commit()
    assert row.version == 2


def test_the_tables_are_made_by_the_migration_line(db: SQLAlchemy) -> None:
    # core.testing runs migrations/entity to head: its version table says so.
    version = db.session.execute(sa.text("SELECT version_num FROM alembic_version_entity"))
    assert version.scalar_one()


def test_ids_are_never_reused_after_the_highest_row_is_deleted(db: SQLAlchemy) -> None:
    rows = [Entity(name=name) for name in ("a", "b", "c")]
    db.session.add_all(rows)
    db.session.commit()
    highest = max(row.id for row in rows)
    db.session.execute(sa.delete(Entity).where(Entity.id == highest))
    db.session.commit()
    after = Entity(name="d")
    db.session.add(after)
    db.session.commit()
    # A reused id would point an old link, ETag or cache entry at another row.
    assert after.id > highest
