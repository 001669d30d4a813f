"""The FastAPI peer: FastAPI + pydantic + SQLAlchemy ORM, the same three routes.

(No ``from __future__ import annotations`` here: FastAPI, pydantic and
SQLAlchemy read these annotations at run time.)
"""

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, sessionmaker

from bench.references import _engine, _order, _subject, entities


class Base(DeclarativeBase):
    pass


class Entity(Base):
    __table__ = entities
    id: Mapped[int]
    name: Mapped[str]
    purpose: Mapped[str | None]
    owner_id: Mapped[str | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    version: Mapped[int]
    name_folded: Mapped[str]
    purpose_folded: Mapped[str | None]
    owner_id_folded: Mapped[str | None]


class EntityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    purpose: str | None
    ownerId: str | None = Field(validation_alias="owner_id")
    createdAt: dt.datetime = Field(validation_alias="created_at")
    updatedAt: dt.datetime = Field(validation_alias="updated_at")


class EntityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    purpose: str | None = Field(default=None, max_length=255)


def fastapi_app() -> FastAPI:
    engine = _engine()
    sessions = sessionmaker(engine, expire_on_commit=False)
    secret = os.environ["JWT_SECRET"]
    app = FastAPI()

    def session() -> Iterator[Session]:
        with sessions() as s:
            yield s

    def subject(authorization: str | None = Header(default=None)) -> str:
        found = _subject(authorization, secret)
        if found is None:
            raise HTTPException(401)
        return found

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.get("/api/entities")
    def list_entities(
        request: Request,
        response: Response,
        page: int = Query(1, ge=1),
        page_size: int = Query(20, ge=1, le=100, alias="pageSize"),
        sort: str = "id",
        name_contains: str | None = Query(None, alias="filter[name][contains]"),
        db: Session = Depends(session),
        _: str = Depends(subject),
    ) -> dict[str, Any]:
        try:
            order = _order(sort)
        except ValueError:
            raise HTTPException(400) from None
        where = (
            [Entity.name_folded.contains(name_contains.casefold(), autoescape=True)]
            if name_contains
            else []
        )
        total = db.scalar(sa.select(sa.func.count()).select_from(Entity).where(*where)) or 0
        rows = db.scalars(
            sa.select(Entity)
            .where(*where)
            .order_by(*order)
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        response.headers["X-Total-Count"] = str(total)
        return {
            "data": [EntityOut.model_validate(r).model_dump(mode="json") for r in rows],
            "meta": {"page": page, "pageSize": page_size, "total": total},
        }

    @app.get("/api/entities/{entity_id}")
    def get_entity(
        entity_id: int, db: Session = Depends(session), _: str = Depends(subject)
    ) -> dict[str, Any]:
        row = db.get(Entity, entity_id)
        if row is None:
            raise HTTPException(404)
        return {"data": EntityOut.model_validate(row).model_dump(mode="json")}

    @app.post("/api/entities", status_code=201)
    def create_entity(
        body: EntityIn, db: Session = Depends(session), owner: str = Depends(subject)
    ) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        row = Entity(**body.model_dump(), owner_id=owner, created_at=now, updated_at=now, version=1)
        db.add(row)
        db.commit()
        return {"data": EntityOut.model_validate(row).model_dump(mode="json")}

    return app
