"""A note's entity is checked with the entity service (here a stand-in over real
HTTP; the real one in stack/note_test.py): exists, does not, may not be read,
cannot say."""

from typing import Any

from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from .model import Note

PATH = "/api/notes"
PROBLEM = "application/problem+json"


def notes(db: SQLAlchemy) -> list[tuple[int, int, str]]:
    db.session.expire_all()
    return [(n.id, n.entity_id, n.body) for n in db.session.query(Note).order_by(Note.id)]


def test_create_asks_the_entity_service_as_the_caller(
    client: FlaskClient, entity_service: Any
) -> None:
    _, stand_in = entity_service
    stand_in.requests.clear()
    response = client.post(
        PATH, json={"entityId": 2, "body": "hello"}, headers={"X-Request-ID": "req-note-1"}
    )
    assert response.status_code == 201, response.get_json()
    (asked,) = stand_in.requests
    assert asked["path"] == "/api/entities/2"
    assert asked["authorization"] == client.environ_base["HTTP_AUTHORIZATION"]
    assert asked["request_id"] == "req-note-1"


def test_an_unknown_or_unreadable_entity_is_422_at_entity_id(
    client: FlaskClient, db: SQLAlchemy, entity_service: Any
) -> None:
    _, stand_in = entity_service
    for entity_id in (404, stand_in.FORBIDDEN):
        response = client.post(PATH, json={"entityId": entity_id, "body": "x"})
        assert response.status_code == 422, entity_id
        assert response.content_type == PROBLEM
        assert [e["pointer"] for e in response.get_json()["errors"]] == ["/entityId"]
    assert notes(db) == []


def test_an_entity_service_that_fails_is_503_with_retry_after(
    client: FlaskClient, db: SQLAlchemy, entity_service: Any
) -> None:
    _, stand_in = entity_service
    response = client.post(PATH, json={"entityId": stand_in.FAILING, "body": "x"})
    assert response.status_code == 503
    assert response.content_type == PROBLEM
    assert int(response.headers["Retry-After"]) > 0
    assert notes(db) == []


def test_a_change_of_entity_is_checked_and_other_changes_are_not(
    client: FlaskClient, db: SQLAlchemy, entity_service: Any
) -> None:
    _, stand_in = entity_service
    created = client.post(PATH, json={"entityId": 1, "body": "first"}).get_json()["data"]
    path = f"{PATH}/{created['id']}"
    stand_in.requests.clear()
    assert client.patch(path, json={"body": "second"}).status_code == 200
    assert client.put(path, json={"entityId": 1, "body": "third"}).status_code == 200
    assert stand_in.requests == []  # the entity did not change: nothing to ask
    before = notes(db)
    moved = client.patch(path, json={"entityId": 404})
    assert moved.status_code == 422
    assert [e["pointer"] for e in moved.get_json()["errors"]] == ["/entityId"]
    assert notes(db) == before
    assert client.patch(path, json={"entityId": 2}).status_code == 200
    assert notes(db)[0][1] == 2
