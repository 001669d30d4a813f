"""The notes table as the migration line makes it (the tests' tables are the
migrations', see core.testing)."""

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy

from .model import Note


def test_the_tables_are_made_by_the_migration_line(db: SQLAlchemy) -> None:
    version = db.session.execute(sa.text("SELECT version_num FROM alembic_version_note"))
    assert version.scalar_one()


def test_ids_are_never_reused_after_the_highest_row_is_deleted(db: SQLAlchemy) -> None:
    rows = [Note(entity_id=1, body=body) for body in ("a", "b", "c")]
    db.session.add_all(rows)
    db.session.commit()
    highest = max(row.id for row in rows)
    db.session.execute(sa.delete(Note).where(Note.id == highest))
    db.session.commit()
    after = Note(entity_id=1, body="d")
    db.session.add(after)
    db.session.commit()
    # A reused id would point an old link, ETag or cache entry at another row.
    assert after.id > highest
