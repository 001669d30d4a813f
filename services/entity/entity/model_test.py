import datetime as dt

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
