# ruff: noqa: RUF001, RUF003  (the scripts are the point: Cyrillic, dotless i)
"""`core.folding`: one case folding, the same on SQLite and PostgreSQL.

A table of scripts: each name is found by every substring of itself, in any
case, through ``contains`` and ``search``; ``%``, ``_`` and ``\\`` are
literal; writes keep the folded columns right (the stored row is read); a
model without its folded columns is refused at definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from marshmallow import validate
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core import Field
from core.app import base_app
from core.crud import CrudColumns, CrudInterfaces, CrudService, check_model, folded
from core.fields import String
from core.folding import fold
from core.query import Filter, ListQuery

# name -> other spellings that must find it (besides every substring of it)
SCRIPTS: dict[str, tuple[str, ...]] = {
    "Crème brûlée": ("CRÈME BRÛLÉE", "ème B", "RÛL"),
    "Straße": ("STRASSE", "straße", "strasse", "ss", "SS", "aß"),
    "ΟΔΟΣ": ("οδος", "οδοσ", "ΟΔΟΣ", "ος", "Σ"),  # final sigma folds as sigma
    "οδός": ("ΟΔΌΣ", "ΌΣ", "όσ"),
    "İzmir": ("İZMIR", "i\u0307zmir", "ZMIR"),
    "ISPARTA": ("isparta", "Sparta"),
    "ıspart": ("ıSPART",),
    "Москва": ("МОСКВА", "москва", "сКв"),
    "東京タワー": ("京タ",),
    "🍕 Pizza 🎉": ("🍕 PIZZA", "A 🎉"),
    "50%_off\\now": ("%_OFF\\",),
}
# term -> names it must not find: no accent folding, no Turkish rules, and
# % _ \ are themselves.
MISSES: dict[str, tuple[str, ...]] = {
    "creme": ("Crème brûlée",),
    "οδος": ("οδός",),
    "izmir": ("İzmir",),
    "İZMİR": ("İzmir",),  # language-neutral: İ is i + dot, I is i (in Turkish, ı)
    "ıspart": ("ISPARTA",),
    "ISPART": ("ıspart",),
    "%": tuple(n for n in SCRIPTS if "%" not in n),
    "_": tuple(n for n in SCRIPTS if "_" not in n),
    "\\": tuple(n for n in SCRIPTS if "\\" not in n),
    "s%e": ("Straße",),
    "st_a": ("Straße",),
}


def substrings(text: str) -> set[str]:
    return {text[i:j] for i in range(len(text)) for j in range(i + 1, len(text) + 1)}


class Base(DeclarativeBase):
    pass


store = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


class Place(CrudColumns, store.Model):  # type: ignore[name-defined]
    __tablename__ = "places"
    name: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str | None] = mapped_column(sa.String(40))
    name_folded: Mapped[str] = folded("name")
    note_folded: Mapped[str | None] = folded("note")


class PlaceInterfaces(CrudInterfaces):
    name = Field(
        String(required=True, validate=validate.Length(1, 40)),
        "Name",
        filterable=True,
        searchable=True,
    )
    note = Field(String(allow_none=True), "Note", searchable=True)
    create_model_keys = update_model_keys = ["name", "note"]


class PlaceService(CrudService[Place]):
    model = Place
    interfaces = PlaceInterfaces


def create_app(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    return base_app(
        __name__, db=store, local_database_url="sqlite:///:memory:", env=env, overrides=overrides
    )


@pytest.fixture
def app_factory() -> Callable[..., Flask]:
    return create_app


@pytest.fixture
def service(db: SQLAlchemy) -> PlaceService:
    return PlaceService(db.session)


@pytest.fixture
def places(service: PlaceService) -> dict[str, int]:
    return {name: service.create({"name": name, "note": None}).id for name in SCRIPTS}


def stored(db: SQLAlchemy, id: int) -> tuple[Any, ...]:
    """The row as the database holds it: sources and folds."""
    with db.engine.connect() as conn:
        table = Place.__table__
        row = conn.execute(
            sa.select(
                table.c.name,
                table.c.name_folded,
                table.c.note,
                table.c.note_folded,
                table.c.owner_id_folded,
            ).where(table.c.id == id)
        ).one()
    return tuple(row)


def test_the_fold_of_a_substring_is_a_substring_of_the_fold() -> None:
    for name, spellings in SCRIPTS.items():
        for part in substrings(name) | set(spellings):
            assert fold(part) in fold(name), (name, part)
    assert fold("Straße") == fold("STRASSE") == "strasse"
    assert fold("ΟΔΟΣ") == fold("οδος") == "οδοσ"


def test_every_row_is_found_by_every_substring_of_its_name(
    service: PlaceService, places: dict[str, int]
) -> None:
    def found(**query: Any) -> set[int]:
        page = service.list(ListQuery(page_size=100, search_fields=("name", "note"), **query))
        return {row.id for row in page.items}

    terms: dict[str, set[int]] = {}  # each term once, with the rows it must find
    for name, spellings in SCRIPTS.items():
        for term in substrings(name) | set(spellings):
            terms.setdefault(term, set()).add(places[name])
    for term, ids in terms.items():
        assert ids <= found(filters=(Filter("name", "contains", term),)), term
        words = tuple(term.split())
        if words:
            assert ids <= found(search=words), term


def test_no_accents_no_turkish_rules_and_literal_wildcards(
    service: PlaceService, places: dict[str, int]
) -> None:
    def names(term: str) -> set[str]:
        page = service.list(ListQuery(page_size=100, filters=(Filter("name", "contains", term),)))
        return {row.name for row in page.items}

    for term, misses in MISSES.items():
        assert not names(term) & set(misses), term
    assert names("%") == names("_") == names("\\") == {"50%_off\\now"}


def test_create_replace_and_patch_keep_the_folds(service: PlaceService, db: SQLAlchemy) -> None:
    created = service.create({"name": "Straße", "note": "ΟΔΟΣ"}, owner_id="Ünal")
    assert stored(db, created.id) == ("Straße", "strasse", "ΟΔΟΣ", "οδοσ", "ünal")
    assert "name_folded" not in created._fields  # rows leave the folds out
    row = service.get(created.id)
    service.replace(row, {"name": "İzmir"})
    assert stored(db, created.id) == ("İzmir", "i\u0307zmir", None, None, "ünal")
    service.patch(row, {"note": "Москва"})
    assert stored(db, created.id) == ("İzmir", "i\u0307zmir", "Москва", "москва", "ünal")
    service.patch(row, {"name": "ΣΊΣΥΦΟΣ"})
    assert stored(db, created.id) == ("ΣΊΣΥΦΟΣ", "σίσυφοσ", "Москва", "москва", "ünal")


def test_an_orm_insert_fills_the_folds_too(db: SQLAlchemy) -> None:
    place = Place(name="ÉCLAIR", note=None)
    db.session.add(place)
    db.session.commit()
    assert stored(db, place.id) == ("ÉCLAIR", "éclair", None, None, None)


# -- the check at class definition ------------------------------------------------


def test_a_searched_field_without_its_fold_is_refused() -> None:
    class Own(DeclarativeBase):
        pass

    class Model(CrudColumns, Own):
        __tablename__ = "places"
        name: Mapped[str] = mapped_column(sa.String(40))
        note: Mapped[str | None] = mapped_column(sa.String(40))
        note_folded: Mapped[str | None] = folded("note")

    with pytest.raises(TypeError) as refused:
        type("Checked", (CrudService,), {"model": Model, "interfaces": PlaceInterfaces})
    assert str(refused.value) == (
        "PlaceInterfaces searches name or filters it with contains, and Model has no "
        'folded column for it: name_folded = folded("name") (core.folding)'
    )


def test_a_fold_of_another_column_is_refused() -> None:
    class Own(DeclarativeBase):
        pass

    class Model(CrudColumns, Own):
        __tablename__ = "places"
        name: Mapped[str] = mapped_column(sa.String(40))
        note: Mapped[str | None] = mapped_column(sa.String(40))
        name_folded: Mapped[str | None] = folded("note")
        note_folded: Mapped[str | None] = folded("note")

    with pytest.raises(TypeError, match="^PlaceInterfaces searches name or filters"):
        check_model(Model, PlaceInterfaces)


def test_a_fold_that_may_be_empty_where_its_source_may_not_is_refused() -> None:
    class Own(DeclarativeBase):
        pass

    class Model(CrudColumns, Own):
        __tablename__ = "places"
        name: Mapped[str] = mapped_column(sa.String(40))
        note: Mapped[str | None] = mapped_column(sa.String(40))
        name_folded: Mapped[str | None] = folded("name")
        note_folded: Mapped[str | None] = folded("note")

    with pytest.raises(TypeError, match="^Model.name_folded must be NOT NULL exactly where name"):
        check_model(Model, PlaceInterfaces)


def test_a_contains_filter_needs_the_fold_too() -> None:
    class NoteFilteredInterfaces(CrudInterfaces):
        note = Field(String(allow_none=True), "Note", filterable=("eq", "contains"))

    class Own(DeclarativeBase):
        pass

    class Model(CrudColumns, Own):
        __tablename__ = "places"
        note: Mapped[str | None] = mapped_column(sa.String(40))

    with pytest.raises(TypeError, match="^NoteFilteredInterfaces searches note or filters"):
        check_model(Model, NoteFilteredInterfaces)

    class EqualOnlyInterfaces(CrudInterfaces):
        note = Field(String(allow_none=True), "Note", filterable=("eq", "ne"))

    check_model(Model, EqualOnlyInterfaces)  # no contains, no search: no fold needed
