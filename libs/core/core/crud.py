"""The data side of a CRUD resource: its model's common columns, its common
fields on the wire, and `CrudService`, its reads and writes.

An entity service declares what is its own and inherits the rest::

    class Note(CrudColumns, db.Model):
        __tablename__ = "notes"
        body: Mapped[str] = mapped_column(sa.String(2000))
        body_folded: Mapped[str] = folded("body")

    class NoteInterfaces(CrudInterfaces):
        body = Field(String(required=True, ...), "The note", searchable=True)
        create_model_keys = update_model_keys = ["body"]

    class NoteService(CrudService[Note]):
        model = Note
        interfaces = NoteInterfaces

- `CrudColumns`: ``id`` (never reused, on SQLite too), ``owner_id``,
  ``created_at``, ``updated_at`` and ``version``, which every UPDATE checks
  and bumps (optimistic concurrency: the ETag is made from it, and a write
  that lost a race fails instead of overwriting), and ``owner_id_folded``.
- `folded`: the shadow column of a text that lists search, or filter with
  ``contains`` (`core.folding`): never on the wire, filled on create and
  kept by every change.
- `CrudInterfaces`: the same four on the wire, read-only (``id``,
  ``ownerId``, ``createdAt``, ``updatedAt``), sortable and filterable.
- `CrudService`: ``list``, ``read`` and ``create`` give plain rows
  (`core.query.row_columns`: no identity map, no change tracking), ``get``
  gives the ORM object that ``replace``, ``patch`` and ``delete`` change.

What is checked when: a `CrudService` subclass is checked when it is defined
(import time, so at start): every sortable, filterable, searchable and
updatable field of its interfaces must be a column of its model, and every
searchable or ``contains`` field must have its folded column, or the import
fails with a `TypeError` naming the field. Its statements are built then
too; nothing connects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

import sqlalchemy as sa
from marshmallow import fields
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, scoped_session
from sqlalchemy.orm.exc import StaleDataError

from .errors import NotFound, PreconditionFailed
from .fields import String, UtcDateTime
from .folding import FOLDS, fold_value, folded, folded_name, folded_sources
from .interfaces import BaseInterfaces, Field
from .query import ListQuery, ListQuerySpec, paginate, row_columns
from .response import Page

__all__ = ["CrudColumns", "CrudInterfaces", "CrudService", "check_model", "folded", "utcnow"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CrudColumns:
    """The columns every CRUD model has (a declarative mixin; see the module docstring)."""

    # Ids are never reused, on SQLite too: a stale URL or ETag must not reach
    # a newer row.
    __table_args__: Any = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    owner_id_folded: Mapped[str | None] = folded("owner_id")  # ownerId is a string: contains
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, index=True
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, index=True
    )
    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


class CrudInterfaces(BaseInterfaces):
    """The wire fields of `CrudColumns`, read-only (see the module docstring)."""

    id = Field(
        fields.Integer(dump_only=True),
        "Unique identifier",
        example=123,
        sortable=True,
        filterable=True,
    )
    owner_id = Field(
        String(dump_only=True, allow_none=True),
        "Subject of the token that created it",
        example="user-42",
        filterable=True,
    )
    created_at = Field(
        UtcDateTime(dump_only=True),
        "Creation time (UTC)",
        example="2026-01-01T12:00:00Z",
        sortable=True,
        filterable=True,
    )
    updated_at = Field(
        UtcDateTime(dump_only=True),
        "Last change (UTC)",
        example="2026-01-01T12:00:00Z",
        sortable=True,
        filterable=True,
    )


def check_model(model: type[Any], interfaces: type[BaseInterfaces]) -> None:
    """Raise `TypeError` unless every field lists or writes use is a column of *model*."""
    columns = {attr.key for attr in sa.inspect(model).column_attrs}
    used = (
        {
            name
            for name, f in interfaces.fields.items()
            if f.sortable or f.filterable or f.searchable
        }
        | set(interfaces.update_keys)
        | set(interfaces.create_keys)
    )
    missing = sorted(used - columns)
    if missing:
        raise TypeError(
            f"{interfaces.__name__} lists, filters, searches or writes "
            f"{', '.join(missing)}, which {model.__name__} has no column for"
        )
    spec = ListQuerySpec(interfaces)
    matched = set(spec.searchable) | {
        spec.wire_names[wire] for wire, ops in spec.operators.items() if "contains" in ops
    }
    table = sa.inspect(model).local_table
    for name in sorted(matched):
        shadow = table.columns.get(folded_name(name))
        if shadow is None or shadow.info.get(FOLDS) != name:
            raise TypeError(
                f"{interfaces.__name__} searches {name} or filters it with contains, and "
                f"{model.__name__} has no folded column for it: "
                f'{folded_name(name)} = folded("{name}") (core.folding)'
            )
        if shadow.nullable != table.columns[name].nullable:
            raise TypeError(
                f"{model.__name__}.{folded_name(name)} must be NOT NULL exactly where "
                f"{name} is (its annotation)"
            )


M = TypeVar("M")
T = TypeVar("T")


class CrudService(Generic[M]):
    """Reads and writes of one model; see the module docstring."""

    model: ClassVar[type[Any]]
    interfaces: ClassVar[type[BaseInterfaces]]
    noun: ClassVar[str]
    """What a row is called in messages: the model's class name."""
    updatable: ClassVar[tuple[str, ...]]
    _folds: ClassVar[dict[str, str]]
    """The folded column of each column that has one."""
    _read: ClassVar[sa.Select[Any]]
    _create: ClassVar[sa.Insert]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "model" not in cls.__dict__:  # an intermediate base
            return
        check_model(cls.model, cls.interfaces)
        cls.noun = cls.__dict__.get("noun", cls.model.__name__)
        cls.updatable = tuple(cls.interfaces.update_keys)
        table = cls.model.__table__
        cls._folds = folded_sources(table)
        columns = row_columns(cls.model)
        cls._read = sa.select(*columns).where(table.c.id == sa.bindparam("id"))
        cls._create = sa.insert(table).returning(*columns)

    def __init__(self, session: Session | scoped_session[Any]) -> None:
        self.session = session

    def list(self, query: ListQuery) -> Page:
        return paginate(self.session, self.model, query)

    def read(self, id: int) -> sa.Row[Any]:
        """The row, plain, to read (`get` gives the ORM object, to change)."""
        return self._found(id, self.session.execute(self._read, {"id": id}).one_or_none())

    def get(self, id: int) -> M:
        found: M | None = self.session.get(self.model, id)
        return self._found(id, found)

    def create(self, attributes: Mapping[str, Any], owner_id: str | None = None) -> sa.Row[Any]:
        """Insert the row and read it back in one statement (``INSERT ... RETURNING``;
        the folded columns fill themselves, `core.folding.folded`)."""
        now = utcnow()
        values = {**attributes, "owner_id": owner_id, "created_at": now, "updated_at": now}
        row = self.session.execute(self._create, values).one()
        self.session.commit()
        return row

    def replace(self, row: M, attributes: Mapping[str, Any]) -> M:
        """Set every updatable field: those not given become empty."""
        return self.change(row, {key: attributes.get(key) for key in self.updatable})

    def patch(self, row: M, changes: Mapping[str, Any]) -> M:
        """Set the given fields only."""
        return self.change(row, changes)

    def delete(self, row: M) -> None:
        self.session.delete(row)
        self._commit()

    def change(self, row: M, changes: Mapping[str, Any]) -> M:
        """Set *changes* on *row* and commit; no write when nothing differs
        (same version, same ETag). `replace` and `patch` come here: a service
        that checks changes overrides this."""
        changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
        if not changed:
            return row
        for key, value in changed.items():
            setattr(row, key, value)
            if key in self._folds:
                setattr(row, self._folds[key], fold_value(value))
        setattr(row, "updated_at", utcnow())  # noqa: B010  (M is any model)
        self._commit()
        return row

    def _commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError:
            self.session.rollback()
            raise PreconditionFailed(
                f"The {self.noun.lower()} was changed or deleted by another request; "
                "read it again."
            ) from None

    def _found(self, id: int, row: T | None) -> T:
        if row is None:
            raise NotFound(f"{self.noun} {id} does not exist.")
        return row
