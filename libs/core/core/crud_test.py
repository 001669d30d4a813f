"""`core.crud`: the model check at class definition, and `CrudService`'s reads
and writes on a small model of this module's own, on the test database."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from marshmallow import fields, validate
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core import Field, NotFound, PreconditionFailed
from core.app import base_app
from core.crud import CrudColumns, CrudInterfaces, CrudService, check_model, folded
from core.fields import String
from core.query import Filter, ListQuery


class Base(DeclarativeBase):
    pass


store = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


class Widget(CrudColumns, store.Model):  # type: ignore[name-defined]
    __tablename__ = "widgets"
    label: Mapped[str] = mapped_column(sa.String(40))
    colour: Mapped[str | None] = mapped_column(sa.String(20))
    label_folded: Mapped[str] = folded("label")
    colour_folded: Mapped[str | None] = folded("colour")


class WidgetInterfaces(CrudInterfaces):
    label = Field(
        String(required=True, validate=validate.Length(1, 40)),
        "Label",
        sortable=True,
        filterable=True,
        searchable=True,
    )
    colour = Field(String(allow_none=True), "Colour", filterable=True, searchable=True)
    # Read-only and used by no list: it needs no column.
    shine = Field(fields.Integer(dump_only=True), "Computed, not stored")
    create_model_keys = ["label", "colour"]
    update_model_keys = ["label", "colour"]


class WidgetService(CrudService[Widget]):
    model = Widget
    interfaces = WidgetInterfaces


class GadgetService(CrudService[Widget]):
    """The same rows, called otherwise in messages."""

    model = Widget
    interfaces = WidgetInterfaces
    noun = "Gadget"


def create_app(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Only a database: `CrudService` knows no Flask."""
    return base_app(
        __name__, db=store, local_database_url="sqlite:///:memory:", env=env, overrides=overrides
    )


@pytest.fixture
def app_factory() -> Callable[..., Flask]:
    return create_app


@pytest.fixture
def service(db: SQLAlchemy) -> WidgetService:
    return WidgetService(db.session)


def stored(service: WidgetService, label: str = "one", colour: str | None = "red") -> Widget:
    """A new widget, as the ORM object to change."""
    return service.get(service.create({"label": label, "colour": colour}, owner_id="u-1").id)


def table(db: SQLAlchemy) -> list[tuple[Any, ...]]:
    """Every row as the database holds it (not the session)."""
    with db.engine.connect() as conn:
        query = sa.select(Widget.id, Widget.label, Widget.colour, Widget.version).order_by(
            Widget.id
        )
        return [tuple(row) for row in conn.execute(query)]


# -- the check at class definition ------------------------------------------------


@pytest.mark.parametrize("use", ["sortable", "filterable", "searchable"])
def test_a_listed_field_that_is_no_column_is_refused_at_definition(use: str) -> None:
    class ShadedInterfaces(WidgetInterfaces):
        shade = Field(
            String(),
            "Not stored",
            sortable=use == "sortable",
            filterable=use == "filterable",
            searchable=use == "searchable",
        )

    with pytest.raises(TypeError) as refused:

        class ShadedService(CrudService[Widget]):
            model = Widget
            interfaces = ShadedInterfaces

    assert str(refused.value) == (
        "ShadedInterfaces lists, filters, searches or writes shade, "
        "which Widget has no column for"
    )


@pytest.mark.parametrize("keys", ["update_model_keys", "create_model_keys"])
def test_a_written_field_that_is_no_column_is_refused_at_definition(keys: str) -> None:
    nickname = Field(String(), "Not stored")
    interfaces = type(
        "RenamingInterfaces", (WidgetInterfaces,), {"nickname": nickname, keys: ["nickname"]}
    )
    with pytest.raises(TypeError, match="^RenamingInterfaces .* writes nickname, which Widget"):
        check_model(Widget, interfaces)
    with pytest.raises(TypeError, match="writes nickname, which Widget has no column for$"):
        type("RenamingService", (CrudService,), {"model": Widget, "interfaces": interfaces})


def test_every_missing_field_is_named_in_order() -> None:
    class WideInterfaces(WidgetInterfaces):
        zeta = Field(String(), "Not stored", sortable=True)
        alpha = Field(String(), "Not stored", searchable=True)

    with pytest.raises(TypeError, match="writes alpha, zeta, which Widget has no column for$"):
        check_model(Widget, WideInterfaces)


def test_an_intermediate_base_without_a_model_is_not_checked() -> None:
    class ShadedInterfaces(WidgetInterfaces):
        shade = Field(String(), "Not stored", sortable=True)

    class Intermediate(CrudService[Widget]):
        interfaces = ShadedInterfaces

    assert "noun" not in Intermediate.__dict__
    with pytest.raises(TypeError, match="writes shade, which Widget"):

        class Concrete(Intermediate):
            model = Widget


def test_a_consistent_pair_is_accepted_and_prepared() -> None:
    check_model(Widget, WidgetInterfaces)  # no error
    assert WidgetService.noun == "Widget"
    assert WidgetService.updatable == ("label", "colour")
    assert GadgetService.noun == "Gadget"


# -- reads ------------------------------------------------------------------------


def test_create_inserts_and_returns_the_plain_row(service: WidgetService, db: SQLAlchemy) -> None:
    created = service.create({"label": "one", "colour": "red"}, owner_id="u-1")
    assert isinstance(created, sa.Row)
    assert (created.label, created.colour, created.owner_id, created.version) == (
        "one",
        "red",
        "u-1",
        1,
    )
    assert created.created_at == created.updated_at
    assert table(db) == [(created.id, "one", "red", 1)]  # committed


def test_ids_increase_and_owner_is_optional(service: WidgetService) -> None:
    first = service.create({"label": "a", "colour": None})
    second = service.create({"label": "b", "colour": None})
    assert second.id > first.id
    assert first.owner_id is None


def test_read_gives_the_row_and_get_the_model(service: WidgetService) -> None:
    created = service.create({"label": "one", "colour": "red"}, owner_id="u-1")
    read = service.read(created.id)
    assert isinstance(read, sa.Row)
    assert read == created
    found = service.get(created.id)
    assert isinstance(found, Widget)
    assert (found.id, found.label, found.colour, found.owner_id, found.version) == (
        created.id,
        "one",
        "red",
        "u-1",
        1,
    )


def test_unknown_ids_are_not_found_named_by_the_model(service: WidgetService) -> None:
    for lookup in (service.read, service.get):
        with pytest.raises(NotFound) as missing:
            lookup(404)
        assert (missing.value.status, missing.value.detail) == (404, "Widget 404 does not exist.")


def test_the_noun_can_be_declared(db: SQLAlchemy) -> None:
    with pytest.raises(NotFound, match=r"^Gadget 7 does not exist\.$"):
        GadgetService(db.session).read(7)


def test_list_filters_searches_sorts_and_pages(service: WidgetService) -> None:
    ids = {
        label: service.create({"label": label, "colour": colour}).id
        for label, colour in [("b", "red"), ("a", "blue"), ("c", "red"), ("d", "dark red")]
    }
    filters = (Filter("label", "ne", "c"),)
    page = service.list(
        ListQuery(page=1, page_size=2, sort=(("label", True), ("id", False)), filters=filters)
    )
    assert page.total == 3
    assert (page.page, page.page_size) == (1, 2)
    assert [(w.id, w.label) for w in page.items] == [(ids["d"], "d"), (ids["b"], "b")]
    second = service.list(ListQuery(page=2, page_size=2, sort=(("label", True),), filters=filters))
    assert [w.label for w in second.items] == ["a"]
    searched = service.list(
        ListQuery(sort=(("id", False),), search=("RED",), search_fields=("label", "colour"))
    )
    assert [w.label for w in searched.items] == ["b", "c", "d"]
    assert searched.total == 3


# -- writes -----------------------------------------------------------------------


def test_replace_sets_every_updatable_field(service: WidgetService, db: SQLAlchemy) -> None:
    row = stored(service, "one", "red")
    before = service.read(row.id)
    returned = service.replace(row, {"label": "two"})
    assert returned is row
    after = service.read(row.id)
    assert (after.label, after.colour, after.version) == ("two", None, 2)
    assert after.created_at == before.created_at
    assert after.updated_at > before.updated_at
    assert after.owner_id == "u-1"


def test_patch_sets_only_what_is_given(service: WidgetService) -> None:
    row = stored(service, "one", "red")
    service.patch(row, {"colour": "blue"})
    after = service.read(row.id)
    assert (after.label, after.colour, after.version) == ("one", "blue", 2)


@pytest.mark.parametrize(
    "write",
    [
        lambda s, row: s.patch(row, {}),
        lambda s, row: s.patch(row, {"label": "one"}),
        lambda s, row: s.replace(row, {"label": "one", "colour": "red"}),
    ],
    ids=["empty patch", "same patch", "same replace"],
)
def test_a_change_to_the_same_values_writes_nothing(
    service: WidgetService, write: Callable[[WidgetService, Widget], Widget]
) -> None:
    row = stored(service, "one", "red")
    before = service.read(row.id)
    assert write(service, row) is row
    assert row.version == 1
    assert service.read(row.id) == before  # same version, same updated_at


def test_delete_removes_the_row(service: WidgetService, db: SQLAlchemy) -> None:
    keep = stored(service, "keep")
    gone = stored(service, "gone")
    service.delete(gone)
    assert table(db) == [(keep.id, "keep", "red", 1)]
    with pytest.raises(NotFound, match=f"^Widget {gone.id} does not exist"):
        service.get(gone.id)


RACE = "The widget was changed or deleted by another request; read it again."


@pytest.mark.parametrize(
    "write",
    [
        lambda s, row: s.patch(row, {"label": "ours"}),
        lambda s, row: s.replace(row, {"label": "ours"}),
        lambda s, row: s.delete(row),
    ],
    ids=["patch", "replace", "delete"],
)
def test_a_write_that_lost_a_race_to_a_change_fails_and_changes_nothing(
    service: WidgetService, db: SQLAlchemy, write: Callable[[WidgetService, Widget], Any]
) -> None:
    row = stored(service, "one")
    with db.engine.begin() as other:  # another writer, after we read the row
        other.execute(
            sa.update(Widget).where(Widget.id == row.id).values(label="theirs", version=2)
        )
    with pytest.raises(PreconditionFailed) as lost:
        write(service, row)
    assert (lost.value.status, lost.value.detail) == (412, RACE)
    assert table(db) == [(row.id, "theirs", "red", 2)]
    db.session.expire_all()  # the session is usable again and sees their write
    assert service.get(row.id).label == "theirs"


@pytest.mark.parametrize(
    "write",
    [lambda s, row: s.patch(row, {"label": "ours"}), lambda s, row: s.delete(row)],
    ids=["patch", "delete"],
)
def test_a_write_that_lost_a_race_to_a_delete_fails(
    service: WidgetService, db: SQLAlchemy, write: Callable[[WidgetService, Widget], Any]
) -> None:
    row = stored(service, "one")
    with db.engine.begin() as other:
        other.execute(sa.delete(Widget).where(Widget.id == row.id))
    with pytest.raises(PreconditionFailed, match=f"^{re.escape(RACE)}$"):
        write(service, row)
    assert table(db) == []
