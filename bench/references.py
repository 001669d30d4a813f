"""The reference servers the services are measured against, on the same table.

- `baseline`: Flask + SQLAlchemy Core + ``json``; no flask-restx, no
  marshmallow. The same list (page, sort, filter, search), get and create
  routes, the same bearer-token check, the same envelope, and lists in the
  same SQL: ``filter[field][op]`` (``eq lt lte gt gte contains``), ``search``
  (every term in the folded name or purpose), sorts with ties by id, the
  keyset page ``after=<createdAt>,<id>`` of ``sort=-createdAt`` (the service's
  cursor), and, when ``BASELINE_COUNT_LIMIT`` is set, the service's count
  policy (exact up to that many matching rows, PostgreSQL's estimate beyond,
  SQLite always counting; ``count=exact`` always counts).
- `ceiling`: a raw WSGI app answering a fixed small JSON: what gunicorn and
  the machine can do at all.
- `bench.fastapi_peer`: FastAPI + pydantic + SQLAlchemy ORM, under uvicorn
  workers: the peer a user would pick instead.

Each factory reads ``DATABASE_URL`` and ``JWT_SECRET`` (gunicorn calls
``bench.references:baseline()`` and the others).
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jwt
import sqlalchemy as sa
from sqlalchemy.engine.default import DefaultExecutionContext


def _fold_of(source: str) -> Callable[[DefaultExecutionContext], str | None]:
    """The service's folding (`core.folding`): ``str.casefold`` of *source*, on every insert."""

    def default(context: DefaultExecutionContext) -> str | None:
        value = context.get_current_parameters().get(source)  # type: ignore[no-untyped-call]
        return None if value is None else str(value).casefold()

    return default


metadata = sa.MetaData()
# The service's table (migrations/entity), folded columns too: every insert
# here folds as the service's do, and lists match on the folds as its lists do.
entities = sa.Table(
    "entities",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("purpose", sa.String(255)),
    sa.Column("owner_id", sa.String(255)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name_folded", sa.Text, nullable=False, default=_fold_of("name")),
    sa.Column("purpose_folded", sa.Text, default=_fold_of("purpose")),
    sa.Column("owner_id_folded", sa.Text, default=_fold_of("owner_id")),
)
COLUMNS = [entities.c[n] for n in ("id", "name", "purpose", "owner_id", "created_at", "updated_at")]
SORTABLE = {"id", "name", "purpose", "createdAt", "updatedAt"}
FIELDS = {
    "id": "id",
    "name": "name",
    "purpose": "purpose",
    "ownerId": "owner_id",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
}
"""Filterable fields: wire name to column."""
SEARCHED = ("name", "purpose")
"""The fields ``search`` looks in: the entity service's searchable ones."""
_FILTER = re.compile(r"filter\[(\w+)\](?:\[(\w+)\])?")
_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}
COUNT_LIMIT_SETTING = "BASELINE_COUNT_LIMIT"
"""The service's count policy, when it has one: totals exact up to this many
matching rows and estimated beyond (unset: always exact)."""


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _row(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "purpose": row.purpose,
        "ownerId": row.owner_id,
        "createdAt": _iso(row.created_at),
        "updatedAt": _iso(row.updated_at),
    }


def _engine() -> sa.Engine:
    return sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)


def _subject(authorization: str | None, secret: str) -> str | None:
    if not authorization or not authorization.startswith("Bearer "):
        return None
    try:
        claims = jwt.decode(authorization[7:], secret, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
    return str(claims.get("sub"))


def _order(sort: str) -> list[Any]:
    names = {"createdAt": "created_at", "updatedAt": "updated_at"}
    order = []
    for token in sort.split(","):
        desc = token.startswith("-")
        field = token.lstrip("-")
        if field not in SORTABLE:
            raise ValueError(field)
        column = entities.c[names.get(field, field)]
        order.append(column.desc() if desc else column.asc())
    return [*order, entities.c.id.asc()]


def _contains(source: str, term: str) -> sa.ColumnElement[bool]:
    """The service's ``contains``: the fold of *source* holds the fold of *term*, literally."""
    return entities.c[f"{source}_folded"].contains(term.casefold(), autoescape=True)


def _value(field: str, raw: str) -> Any:
    if field in ("createdAt", "updatedAt"):
        return dt.datetime.fromisoformat(raw)
    return int(raw) if field == "id" else raw


def _where(args: Mapping[str, str]) -> list[sa.ColumnElement[bool]]:
    """The service's WHERE clauses: ``filter[field][op]`` (``eq lt lte gt gte contains``)
    and ``search``, every term in some `SEARCHED` field; `ValueError` on anything else."""
    where = []
    for key, raw in args.items():
        match = _FILTER.fullmatch(key)
        if match is None:
            continue
        field, op = match[1], match[2] or "eq"
        if field not in FIELDS or op not in (*_COMPARISONS, "contains"):
            raise ValueError(key)
        if op == "contains":
            where.append(_contains(FIELDS[field], raw))
        else:
            where.append(_COMPARISONS[op](entities.c[FIELDS[field]], _value(field, raw)))
    for term in args.get("search", "").split():
        where.append(sa.or_(*(_contains(source, term) for source in SEARCHED)))
    return where


def _after(value: str, sort: str) -> list[sa.ColumnElement[bool]]:
    """The keyset condition of ``after=<createdAt>,<id>``: the rows after that one
    in ``sort=-createdAt`` order (ties by id ascending); `ValueError` for another sort."""
    if sort != "-createdAt":
        raise ValueError(sort)
    when, _, last_id = value.rpartition(",")
    at, row_id, created = dt.datetime.fromisoformat(when), int(last_id), entities.c.created_at
    return [
        created <= at,
        sa.or_(created < at, sa.and_(created == at, entities.c.id > row_id)),
    ]


def _count(
    conn: sa.Connection, where: list[sa.ColumnElement[bool]], limit: int | None
) -> tuple[int, bool]:
    """The total and whether it is exact: counted when *limit* is None or on SQLite;
    else counted up to *limit* + 1 matching rows and, when more match, PostgreSQL's
    estimate (never below *limit* + 1)."""
    if limit is None or conn.dialect.name != "postgresql":
        return (
            conn.scalar(sa.select(sa.func.count()).select_from(entities).where(*where)) or 0,
            True,
        )
    matching: sa.Select[Any] = sa.select(sa.literal_column("1")).select_from(entities).where(*where)
    capped = matching.limit(limit + 1).subquery()
    found = conn.scalar(sa.select(sa.func.count()).select_from(capped)) or 0
    if found <= limit:
        return found, True
    compiled = matching.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
    return max(int(plan.scalar_one()[0]["Plan"]["Plan Rows"]), limit + 1), False


def baseline() -> Callable[..., Iterable[bytes]]:
    """Flask + SQLAlchemy Core + json: the bare implementation of the same routes."""
    from flask import Flask, Response, request

    app = Flask("baseline")
    engine = _engine()
    secret = os.environ["JWT_SECRET"]
    limit_setting = os.environ.get(COUNT_LIMIT_SETTING)
    count_limit = int(limit_setting) if limit_setting else None

    def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status, headers, mimetype="application/json")

    def problem(status: int, detail: str) -> Response:
        return Response(
            json.dumps({"status": status, "detail": detail}),
            status,
            mimetype="application/problem+json",
        )

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.get("/api/entities")
    def list_entities() -> Response:
        if _subject(request.headers.get("Authorization"), secret) is None:
            return problem(401, "token")
        try:
            page = int(request.args.get("page", 1))
            size = int(request.args.get("pageSize", 20))
            sort = request.args.get("sort", "id")
            order = _order(sort)
            where = _where(request.args)
            after = request.args.get("after")
            keyset = _after(after, sort) if after is not None else []
        except ValueError:
            return problem(400, "bad query")
        limit = None if request.args.get("count") == "exact" else count_limit
        with engine.connect() as conn:
            total, exact = _count(conn, where, limit)
            rows = conn.execute(
                sa.select(*COLUMNS)
                .where(*where, *keyset)
                .order_by(*order)
                .limit(size)
                .offset(0 if after is not None else (page - 1) * size)
            ).all()
        last = max(1, -(-(total or 0) // size))
        base = request.base_url
        links = {
            "self": f"{base}?page={page}&pageSize={size}",
            "first": f"{base}?page=1&pageSize={size}",
            "prev": f"{base}?page={page - 1}&pageSize={size}" if page > 1 else None,
            "next": f"{base}?page={page + 1}&pageSize={size}" if page < last else None,
            "last": f"{base}?page={last}&pageSize={size}",
        }
        if after is not None:  # keyset pages: the next one starts after this one's last row
            links["prev"] = None
            links["next"] = (
                f"{base}?sort={sort}&pageSize={size}&after={_iso(rows[-1].created_at)},{rows[-1].id}"
                if len(rows) == size
                else None
            )
        meta: dict[str, Any] = {"page": page, "pageSize": size, "total": total}
        if count_limit is not None:
            meta["totalExact"] = exact
        body = {"data": [_row(r) for r in rows], "meta": meta, "links": links}
        link = ", ".join(f'<{u}>; rel="{k}"' for k, u in links.items() if u)
        return answer(body, headers={"Link": link, "X-Total-Count": str(total)})

    @app.get("/api/entities/<int:entity_id>")
    def get_entity(entity_id: int) -> Response:
        if _subject(request.headers.get("Authorization"), secret) is None:
            return problem(401, "token")
        with engine.connect() as conn:
            row = conn.execute(sa.select(*COLUMNS).where(entities.c.id == entity_id)).first()
        if row is None:
            return problem(404, "missing")
        return answer({"data": _row(row)}, headers={"ETag": f'"{row.id}"'})

    @app.post("/api/entities")
    def create_entity() -> Response:
        subject = _subject(request.headers.get("Authorization"), secret)
        if subject is None:
            return problem(401, "token")
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or set(body) - {"name", "purpose"}:
            return problem(422, "body")
        name, purpose = body.get("name"), body.get("purpose")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            return problem(422, "name")
        if purpose is not None and (not isinstance(purpose, str) or len(purpose) > 255):
            return problem(422, "purpose")
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            row = conn.execute(
                entities.insert()
                .values(
                    name=name,
                    purpose=purpose,
                    owner_id=subject,
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
                .returning(*COLUMNS)
            ).one()
        return answer({"data": _row(row)}, 201, {"Location": f"{request.base_url}/{row.id}"})

    return app


def ceiling() -> Callable[..., Iterable[bytes]]:
    """A raw WSGI app: a fixed small JSON answer."""
    body = b'{"data":{"result":3}}'
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", headers)
        return [body]

    return app
