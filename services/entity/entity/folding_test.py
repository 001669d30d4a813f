# ruff: noqa: RUF001, RUF003  (the scripts are the point: Cyrillic, dotless i)
"""One text folding through the entity list API (`core.folding`): a table of
scripts, each name found by every substring of itself through
``filter[name][contains]`` and ``search``; and the folded columns as stored
after POST, PUT and PATCH."""

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from .model import Entity

# name -> spellings in other cases that must find it too
SCRIPTS: dict[str, tuple[str, ...]] = {
    "Crème brûlée": ("CRÈME BRÛLÉE", "ÈME B"),
    "Straße": ("STRASSE", "straße", "ss"),
    "ΟΔΟΣ": ("οδος", "ος"),  # final sigma
    "οδός": ("ΟΔΌΣ", "όσ"),
    "İzmir": ("İZMIR", "ZMIR"),
    "ISPARTA": ("isparta",),
    "ıspart": ("ıSPART",),
    "Москва": ("МОСКВА", "сКв"),
    "東京タワー": ("京タ",),
    "🍕 Pizza": ("🍕 PIZZA",),
    "5%_a\\b": ("%_A\\",),
}
MISSES: dict[str, str] = {  # term -> a name it must not find
    "creme": "Crème brûlée",  # not accent-insensitive
    "ıspart": "ISPARTA",  # language-neutral: I is i, ı is itself
    "%": "Straße",
    "_": "Straße",
    "\\": "Straße",
}


def substrings(text: str) -> set[str]:
    return {text[i:j] for i in range(len(text)) for j in range(i + 1, len(text) + 1)}


def create(client: FlaskClient, **body: Any) -> int:
    response = client.post("/api/entities", json=body)
    assert response.status_code == 201, response.get_json()
    found: int = response.get_json()["data"]["id"]
    return found


def found(client: FlaskClient, **query: str) -> set[int]:
    response = client.get("/api/entities", query_string={"pageSize": "100", **query})
    assert response.status_code == 200, response.get_json()
    return {row["id"] for row in response.get_json()["data"]}


def stored(db: SQLAlchemy, id: int) -> tuple[Any, ...]:
    """The row as the database holds it."""
    table = Entity.__table__
    with db.engine.connect() as conn:
        return tuple(
            conn.execute(
                sa.select(
                    table.c.name, table.c.name_folded, table.c.purpose, table.c.purpose_folded
                ).where(table.c.id == id)
            ).one()
        )


def test_every_name_is_found_by_every_substring_of_itself(client: FlaskClient) -> None:
    ids = {name: create(client, name=name) for name in SCRIPTS}
    terms: dict[str, set[int]] = {}
    for name, spellings in SCRIPTS.items():
        for term in substrings(name) | set(spellings):
            terms.setdefault(term, set()).add(ids[name])
    for term, expected in terms.items():
        assert expected <= found(client, **{"filter[name][contains]": term}), term
        if term.split():  # search is by whitespace-separated terms
            assert expected <= found(client, search=term), term
    for term, name in MISSES.items():
        assert ids[name] not in found(client, **{"filter[name][contains]": term}), term
        assert ids[name] not in found(client, search=term), term
    assert found(client, **{"filter[name][contains]": "%_"}) == {ids["5%_a\\b"]}


def test_the_folds_follow_post_put_and_patch(client: FlaskClient, db: SQLAlchemy) -> None:
    id = create(client, name="Straße", purpose="ΟΔΟΣ")
    assert stored(db, id) == ("Straße", "strasse", "ΟΔΟΣ", "οδοσ")
    path = f"/api/entities/{id}"
    assert client.put(path, json={"name": "İzmir"}).status_code == 200
    assert stored(db, id) == ("İzmir", "i\u0307zmir", None, None)
    assert client.patch(path, json={"purpose": "Москва"}).status_code == 200
    assert stored(db, id) == ("İzmir", "i\u0307zmir", "Москва", "москва")
    assert client.patch(path, json={"name": "ΣΊΣΥΦΟΣ", "purpose": None}).status_code == 200
    assert stored(db, id) == ("ΣΊΣΥΦΟΣ", "σίσυφοσ", None, None)
    assert found(client, search="σισυφοσ ΣΊΣΥΦΟΣ") == set()  # no accent folding
    assert found(client, search="ΊΣΥΦΟς") == {id}
    assert client.get(path).get_json()["data"].keys() == {
        "id",
        "name",
        "purpose",
        "ownerId",
        "createdAt",
        "updatedAt",
    }  # the folds are not on the wire


@pytest.mark.parametrize("name", ["ß" * 255, "ΐ" * 255])  # folds 2 and 3 times longer
def test_a_longest_name_folds_without_limit(client: FlaskClient, db: SQLAlchemy, name: str) -> None:
    id = create(client, name=name)
    assert stored(db, id)[1] == name.casefold()
    assert found(client, **{"filter[name][contains]": name.upper()}) == {id}
