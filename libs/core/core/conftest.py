"""A small app on core, with a database, for core's own tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_restx import Namespace, Resource
from flask_sqlalchemy import SQLAlchemy
from marshmallow import fields, validate
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core import (
    ApiFlask,
    ApiResponse,
    BaseInterfaces,
    Conflict,
    Field,
    NotFound,
    Page,
    accepts,
    accepts_query,
    build_app,
    responds,
)
from core.fields import Integer, UtcDateTime
from core.folding import folded


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Note(db.Model):  # type: ignore[name-defined]
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(40))
    body_text: Mapped[str | None] = mapped_column(sa.String(200))
    title_folded: Mapped[str] = folded("title")
    body_text_folded: Mapped[str | None] = folded("body_text")
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=lambda: dt.datetime.now(dt.UTC)
    )


class NoteInterfaces(BaseInterfaces):
    id = Field(
        fields.Integer(dump_only=True), "Identifier", example=1, sortable=True, filterable=True
    )
    title = Field(
        fields.String(required=True, validate=validate.Length(1, 40)),
        "Title",
        example="Hi",
        sortable=True,
        filterable=("eq", "contains"),
        searchable=True,
    )
    body_text = Field(
        fields.String(allow_none=True, validate=validate.Length(max=200)), "Body", searchable=True
    )
    tags = Field(fields.List(fields.String(), load_default=list), "Tags")
    created_at = Field(UtcDateTime(dump_only=True), "Creation time", sortable=True, filterable=True)
    create_model_keys = ["title", "body_text", "tags"]
    update_model_keys = ["title", "body_text"]


class ListArgumentsInterfaces(BaseInterfaces):
    page = Field(Integer(load_default=1, validate=validate.Range(1)), "Page")
    page_size = Field(Integer(load_default=2, validate=validate.Range(1, 5)), "Page size")


api = Namespace("Notes", path="/api/notes")
notes = NoteInterfaces(api)
list_arguments = ListArgumentsInterfaces(api)


@api.route("")
class NoteList(Resource):
    @accepts_query(list_arguments.query)
    @responds(notes.many)
    def get(self, query: dict[str, Any]) -> ApiResponse:
        """List notes"""
        page, size = query["page"], query["page_size"]
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Note))
        items = db.session.scalars(
            sa.select(Note).order_by(Note.id).limit(size).offset((page - 1) * size)
        ).all()
        return ApiResponse(Page(items, page, size, total or 0))

    @accepts(notes.create)
    @responds(notes.single, 201)
    def post(self, body: dict[str, Any]) -> ApiResponse:
        """Create a note"""
        body.pop("tags")
        if body["title"] == "taken":
            raise Conflict("That title is taken.")
        note = Note(**body)
        db.session.add(note)
        db.session.commit()
        return ApiResponse(note, 201, headers={"Location": f"/api/notes/{note.id}"})


@api.route("/<int:note_id>")
class NoteItem(Resource):
    @responds(notes.single)
    def get(self, note_id: int) -> Note:
        """Get a note"""
        note = db.session.get(Note, note_id)
        if note is None:
            raise NotFound(f"Note {note_id} does not exist.")
        return note

    @accepts(notes.patch)
    @responds(notes.single)
    def patch(self, note_id: int, body: dict[str, Any]) -> Note:
        """Change some fields of a note"""
        note = db.session.get(Note, note_id)
        if note is None:
            raise NotFound(f"Note {note_id} does not exist.")
        for key, value in body.items():
            setattr(note, key, value)
        db.session.commit()
        return note

    def delete(self, note_id: int) -> ApiResponse:
        """Delete a note"""
        return ApiResponse(None, 204)


@api.route("/boom")
class Boom(Resource):
    def get(self) -> None:
        """Fail unexpectedly"""
        raise RuntimeError("secret internals: password=hunter2")


def register_routes(api_: ApiFlask, app: Flask) -> None:
    api_.add_namespace(api)


def create_app(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    return build_app(
        __name__,
        title="Notes",
        register_routes=register_routes,
        db=db,
        local_database_url="sqlite:///:memory:",
        env=env,
        overrides=overrides,
    )


@pytest.fixture
def app_factory() -> Callable[..., Flask]:
    return create_app
