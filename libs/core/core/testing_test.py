"""The pytest plugin's own promises: each test starts from empty tables."""

from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from core.conftest import Note


def test_rows_written_here(client: FlaskClient, db: SQLAlchemy) -> None:
    assert db.session.query(Note).count() == 0
    client.post("/api/notes", json={"title": "first"})
    db.session.add(Note(title="second"))
    db.session.commit()
    assert db.session.query(Note).count() == 2


def test_are_gone_here(db: SQLAlchemy) -> None:
    assert db.session.query(Note).count() == 0


def test_the_database_is_this_process_own(app, database_url: str) -> None:  # type: ignore[no-untyped-def]
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url
    assert database_url.startswith("sqlite:///") or "search_path" in database_url
