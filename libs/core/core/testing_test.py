"""The pytest plugin's own promises: each test starts from empty tables,
whatever ran before it; the database is the process's own."""

import re

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from core.conftest import Note

pytest_plugins = ["pytester"]

# Two tests that write rows and then expect none, run by a pytest of their
# own with the real plugin: whichever runs second sees the first's rows
# unless the plugin deletes them.
WRITER = """
def test_{name}(client, db):
    assert db.session.query(Note).count() == 0
    client.post("/api/notes", json={{"title": "first"}})
    db.session.add(Note(title="second"))
    db.session.commit()
    assert db.session.query(Note).count() == 2
"""
PLUGIN_USER = """
import pytest
from core.conftest import Note, create_app

@pytest.fixture
def app_factory():
    return create_app
"""


@pytest.mark.parametrize("order", [("one", "two"), ("two", "one")])
def test_each_test_starts_from_empty_tables_in_any_order(
    pytester: pytest.Pytester, order: tuple[str, str]
) -> None:
    pytester.makepyfile(test_rows=PLUGIN_USER + "".join(WRITER.format(name=name) for name in order))
    result = pytester.runpytest_inprocess("-p", "core.testing", "-p", "no:randomly", "-v")
    result.assert_outcomes(passed=2)
    assert re.findall(r"::test_(one|two) PASSED", result.stdout.str()) == list(order)


def test_a_test_alone_starts_from_empty_tables(client: FlaskClient, db: SQLAlchemy) -> None:
    assert db.session.query(Note).count() == 0
    client.post("/api/notes", json={"title": "first"})
    assert db.session.query(Note).count() == 1


def test_the_database_is_this_process_own(app, database_url: str) -> None:  # type: ignore[no-untyped-def]
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url
    assert database_url.startswith("sqlite:///") or "search_path" in database_url
