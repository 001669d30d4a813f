"""List queries: pagination, sort, filter and search, driven by the interfaces.

A resource says once, on each `Field`, what lists may do with it
(``sortable``, ``filterable``, ``searchable``); `ListQuerySpec` reads that and
parses a request's query string into a plain `ListQuery`; `paginate` turns a
`ListQuery` into two SQL queries, a count and a page, built with SQLAlchemy
expressions. The syntax (DESIGN.md):

- ``page`` (>= 1, default 1), ``pageSize`` (1-100, default 20);
- ``sort=-createdAt,name``: fields by wire name, ``-`` for descending; ties
  are broken by ``id``;
- ``filter[name]=x`` (``eq``), ``filter[createdAt][gte]=2026-01-01T00:00:00Z``,
  ``filter[id][in]=1,2,3``; operators ``eq ne lt lte gt gte in contains``,
  ``contains`` being a literal, case-insensitive substring;
- ``search=foo bar``: every term matches some searchable field;
- ``cursor``: the opaque cursor of ``links.next`` or ``links.prev``
  (`core.cursor`), the page after or before a row, read by its sort key,
  whatever its depth; bound to the sort, filters and search it came with;
  not with ``page``;
- ``count=estimated|exact|planned``: how ``meta.total`` is counted (`count`).

``contains`` and ``search`` compare folded text (`core.folding`): each
field they look in has its ``<field>_folded`` column.

Anything else, or a value of the wrong type, is a 400 naming the parameter.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import request
from marshmallow import ValidationError, fields
from sqlalchemy.orm import Session, scoped_session
from werkzeug.datastructures import MultiDict

from .cursor import (
    AFTER,
    BEFORE,
    FROM,
    MAX_TOKEN_LENGTH,
    UP_TO,
    Cursor,
    CursorError,
    decode,
    encode,
)
from .cursor import fingerprint as cursor_fingerprint
from .decorators import document_errors, query_arguments
from .errors import parameter_error
from .fields import Integer
from .folding import FOLDS, contains_folded, folded_name
from .interfaces import NO_NUL_PATTERN, BaseInterfaces, Field, camel_case, query_param
from .response import Page

__all__ = [
    "COUNTS",
    "COUNT_EXACT_UP_TO",
    "OPERATORS",
    "Filter",
    "ListQuery",
    "ListQuerySpec",
    "accepts_list_query",
    "count",
    "paginate",
]

OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "contains")
_ORDERED_OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in")
_STRING_OPERATORS = ("eq", "ne", "in", "contains")
_BOOLEAN_OPERATORS = ("eq", "ne")
_FILTER = re.compile(r"filter\[([^\[\]]+)\](?:\[([^\[\]]+)\])?")
MAX_IN_VALUES = 100
MAX_SEARCH_LENGTH = 256
MAX_PAGE = 10**9
ESTIMATED, EXACT, PLANNED = "estimated", "exact", "planned"
COUNTS = (ESTIMATED, EXACT, PLANNED)
"""How a list's ``meta.total`` is counted (``count=``); see `count`."""
COUNT_EXACT_UP_TO = 10_000
"""Up to this many matching rows, ``count=estimated`` (the default) is exact."""
_PAGE_NUMBER = Integer()

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Filter:
    """One condition: attribute name (snake_case), operator, parsed value."""

    name: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A parsed list request; plain values, no Flask."""

    page: int = 1
    page_size: int = 20
    sort: tuple[tuple[str, bool], ...] = ()
    """(attribute, descending) pairs, in order."""
    filters: tuple[Filter, ...] = ()
    search: tuple[str, ...] = ()
    search_fields: tuple[str, ...] = ()
    cursor: Cursor | None = None
    """The page after or before this sort key (``page`` is then not used)."""
    count: str = ESTIMATED

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def fingerprint(self) -> bytes:
        """What a cursor of this query is bound to: its sort, filters and search."""
        filters = sorted((f.name, f.op, f.value) for f in self.filters)
        return cursor_fingerprint(self.sort, filters, self.search)


def _default_operators(field: fields.Field[Any]) -> tuple[str, ...]:
    if isinstance(field, fields.Boolean):
        return _BOOLEAN_OPERATORS
    if isinstance(field, fields.Number | fields.DateTime | fields.Date):
        return _ORDERED_OPERATORS
    return _STRING_OPERATORS


def _parser(field: fields.Field[Any], *, typed: bool = False) -> fields.Field[Any]:
    """What parses a list's values of *field* (filters', cursors'): the field
    itself, its validators left out (they are for bodies); integers parsed
    strictly (64-bit, digits only) whatever Integer field was declared: the
    database must never see more. *typed*: the values are JSON (a cursor's),
    so an integer must be a JSON integer, not text or a fraction."""
    parser = Integer(strict=typed) if isinstance(field, fields.Integer) else copy.copy(field)
    parser.validators = []
    return parser


class ListQuerySpec:
    """What a resource's lists accept, read from its interfaces' fields."""

    def __init__(
        self,
        interfaces: type[BaseInterfaces],
        *,
        default_page_size: int = 20,
        max_page_size: int = 100,
    ) -> None:
        self.interfaces = interfaces
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        declared = interfaces.fields
        self.wire_names = {camel_case(name): name for name in declared}
        self.sortable = {camel_case(n) for n, f in declared.items() if f.sortable}
        self.searchable = tuple(n for n, f in declared.items() if f.searchable)
        self.operators: dict[str, tuple[str, ...]] = {}
        self._parsers: dict[str, fields.Field[Any]] = {}
        for name, f in declared.items():
            if not f.filterable:
                continue
            ops = _default_operators(f.field) if f.filterable is True else tuple(f.filterable)
            unknown = set(ops) - set(OPERATORS)
            if unknown:
                raise TypeError(
                    f"{interfaces.__name__}.{name}: unknown operators {sorted(unknown)}"
                )
            self.operators[camel_case(name)] = ops
            self._parsers[camel_case(name)] = _parser(f.field)
        self._tiebreak = "id" if "id" in declared else None
        # A cursor's values, by attribute: those of the sort fields and the tiebreak.
        self._key_parsers = {
            name: _parser(f.field, typed=True)
            for name, f in declared.items()
            if f.sortable or name == self._tiebreak
        }

    # -- parsing ---------------------------------------------------------------

    def parse(self, args: MultiDict[str, str]) -> ListQuery:
        """Parse a query string; raise `BadRequest` naming the bad parameter."""
        page, page_size = 1, self.default_page_size
        sort: tuple[tuple[str, bool], ...] = ()
        filters: list[Filter] = []
        search: tuple[str, ...] = ()
        token: str | None = None
        counting = ESTIMATED
        given = query_arguments(args)
        for key, value in given.items():
            if key == "page":
                page = self._integer(key, value, 1, MAX_PAGE)
            elif key == "cursor":
                token = value
            elif key == "count":
                if value not in COUNTS:
                    raise parameter_error(key, f"Must be one of: {', '.join(COUNTS)}.")
                counting = value
            elif key == "pageSize":
                page_size = self._integer(key, value, 1, self.max_page_size)
            elif key == "sort":
                sort = self._sort(value)
            elif key == "search":
                search = self._search(value)
            elif match := _FILTER.fullmatch(key):
                op = match[2] or "eq"
                if any(f.name == self.wire_names.get(match[1]) and f.op == op for f in filters):
                    raise parameter_error(key, "Given more than once (with and without [eq]).")
                filters.append(self._filter(key, match[1], op, value))
            else:
                raise parameter_error(key, "Unknown parameter.")
        if self._tiebreak and all(name != self._tiebreak for name, _ in sort):
            sort = (*sort, (self._tiebreak, False))
        query = ListQuery(
            page, page_size, sort, tuple(filters), search, self.searchable, count=counting
        )
        if token is None:
            return query
        if "page" in given:
            raise parameter_error("cursor", "Give page or cursor, not both.")
        return replace(query, cursor=self._cursor(token, query))

    @staticmethod
    def _integer(key: str, value: str, low: int, high: int) -> int:
        try:
            number: int = _PAGE_NUMBER.deserialize(value)
        except ValidationError:
            raise parameter_error(key, "Not a valid integer.") from None
        if not low <= number <= high:
            raise parameter_error(key, f"Must be between {low} and {high}.")
        return number

    def _cursor(self, token: str, query: ListQuery) -> Cursor:
        """The cursor of *token*, bound to *query*; its values parsed as filter
        values of the sort fields are (a made-up cursor can hold anything JSON
        can), or a 400."""
        try:
            found = decode(token, query.fingerprint())
        except CursorError as error:
            raise parameter_error("cursor", str(error)) from None
        if len(found.values) != len(query.sort):
            raise parameter_error("cursor", "Not a cursor of this list query.")
        values = []
        for (name, _), value in zip(query.sort, found.values, strict=True):
            try:
                values.append(None if value is None else self._key_parsers[name].deserialize(value))
            except ValidationError:
                raise parameter_error("cursor", "Not a cursor of this list query.") from None
        return Cursor(found.direction, tuple(values))

    def _sort(self, value: str) -> tuple[tuple[str, bool], ...]:
        out: list[tuple[str, bool]] = []
        for token in value.split(","):
            descending = token.startswith("-")
            wire = token[1:] if descending else token
            if wire not in self.sortable:
                allowed = ", ".join(sorted(self.sortable))
                raise parameter_error(
                    "sort", f"Cannot sort by '{wire}'; sortable fields: {allowed}."
                )
            name = self.wire_names[wire]
            if all(name != seen for seen, _ in out):  # a repeat changes nothing
                out.append((name, descending))
        return tuple(out)

    def _search(self, value: str) -> tuple[str, ...]:
        if not self.searchable:
            raise parameter_error("search", "This list cannot be searched.")
        if len(value) > MAX_SEARCH_LENGTH:
            raise parameter_error("search", f"At most {MAX_SEARCH_LENGTH} characters.")
        return tuple(value.split())

    def _filter(self, key: str, wire: str, op: str, raw: str) -> Filter:
        if wire not in self.operators:
            allowed = ", ".join(sorted(self.operators))
            raise parameter_error(key, f"Cannot filter by '{wire}'; filterable fields: {allowed}.")
        if op not in self.operators[wire]:
            allowed = ", ".join(self.operators[wire])
            raise parameter_error(
                key, f"Unknown operator '{op}' for '{wire}'; use one of: {allowed}."
            )
        parser = self._parsers[wire]
        try:
            if op == "in":
                items = raw.split(",")
                if len(items) > MAX_IN_VALUES:
                    raise parameter_error(key, f"At most {MAX_IN_VALUES} values.")
                value: Any = tuple(parser.deserialize(item) for item in items)
            elif op == "contains":
                value = raw
            else:
                value = parser.deserialize(raw)
        except ValidationError as err:
            detail = " ".join(cast(list[str], err.messages))
            raise parameter_error(key, detail) from None
        return Filter(self.wire_names[wire], op, value)

    # -- documentation -----------------------------------------------------------

    def params(self) -> dict[str, dict[str, Any]]:
        """The swagger ``in: query`` parameters of a list operation."""
        params: dict[str, dict[str, Any]] = {
            "page": {
                "in": "query",
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PAGE,
                "default": 1,
                "description": "Page number, from 1.",
            },
            "pageSize": {
                "in": "query",
                "type": "integer",
                "minimum": 1,
                "maximum": self.max_page_size,
                "default": self.default_page_size,
                "description": "Items per page.",
            },
            "cursor": {
                "in": "query",
                "type": "string",
                "maxLength": MAX_TOKEN_LENGTH,
                "pattern": r"^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$",
                "description": "Opaque: the page after or before a row, as links.next and "
                "links.prev give it; its cost does not grow with its depth. Bound to the sort, "
                "filters and search it came with (else 400); not with page.",
            },
            "count": {
                "in": "query",
                "type": "string",
                "enum": list(COUNTS),
                "default": ESTIMATED,
                "description": f"How meta.total is counted. estimated: exactly up to "
                f"{COUNT_EXACT_UP_TO} matching rows, beyond that the database's estimate "
                "(PostgreSQL; SQLite always counts); exact: always counted; planned: the "
                "estimate only. meta.totalExact says which; X-Total-Count and links.last "
                "come only with an exact total.",
            },
        }
        if self.sortable:
            one = "-?(" + "|".join(sorted(self.sortable)) + ")"
            params["sort"] = {
                "in": "query",
                "type": "string",
                "pattern": f"^{one}(,{one})*$",
                "description": "Comma-separated fields, '-' for descending; ties by id. "
                f"Sortable: {', '.join(sorted(self.sortable))}.",
            }
        if self.searchable:
            names = ", ".join(camel_case(n) for n in self.searchable)
            params["search"] = {
                "in": "query",
                "type": "string",
                "maxLength": MAX_SEARCH_LENGTH,
                "pattern": NO_NUL_PATTERN,
                "description": f"Space-separated terms; each must match (case-insensitive) {names}.",
            }
        declared: Mapping[str, Field] = self.interfaces.fields
        for wire, ops in self.operators.items():
            f = declared[self.wire_names[wire]]
            base = query_param(self._parsers[wire])
            base.pop("required", None)
            for op in ops:
                param = {**base, "required": False}
                if op == "in":
                    param = {
                        "in": "query",
                        "type": "array",
                        "items": {k: v for k, v in base.items() if k not in ("in", "description")},
                        "collectionFormat": "csv",
                        "minItems": 1,
                        "maxItems": MAX_IN_VALUES,
                    }
                elif op == "contains":
                    param = {"in": "query", "type": "string", "pattern": NO_NUL_PATTERN}
                what = f.description or wire
                param["description"] = f"Filter: {what} {op} the value."
                params[f"filter[{wire}]" if op == "eq" else f"filter[{wire}][{op}]"] = param
        return params


def accepts_list_query(interfaces: BaseInterfaces, **spec_options: Any) -> Callable[[F], F]:
    """Parse the list query string of *interfaces*' resource; pass it as ``query``."""
    spec = ListQuerySpec(type(interfaces), **spec_options)

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, query=spec.parse(request.args), **kwargs)

        documented = interfaces.api.doc(params=spec.params())(wrapper)
        return document_errors(interfaces, 400)(cast(F, documented))

    return decorate


# -- SQL -------------------------------------------------------------------------


def _bind(column: Any, value: Any) -> Any:
    """Bind *value* for comparison with *column*.

    Integers are bound as 64-bit whatever the column's width: PostgreSQL would
    cast a bind of a 32-bit column's type and fail on a larger value, where
    the comparison itself is well defined (nothing is greater than it).
    """
    if isinstance(getattr(column, "type", None), sa.Integer):
        return sa.bindparam(None, value, type_=sa.BigInteger, expanding=isinstance(value, tuple))
    return value


def _condition(column: Any, f: Filter) -> sa.ColumnElement[bool]:
    value = _bind(column, f.value)
    condition: Any
    match f.op:
        case "eq":
            condition = column == value
        case "ne":
            # SQL's NULL != x is unknown, not true: absent values differ too.
            condition = sa.or_(column != value, column.is_(None))
        case "lt":
            condition = column < value
        case "lte":
            condition = column <= value
        case "gt":
            condition = column > value
        case "gte":
            condition = column >= value
        case "in":
            condition = column.in_(value)
        case "contains":
            condition = contains_folded(column, f.value)
        case _:
            raise ValueError(f"unknown operator {f.op!r}")
    return cast(sa.ColumnElement[bool], condition)


def conditions(model: type[Any], query: ListQuery) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses of *query* against *model*'s mapped attributes
    (``contains`` and ``search`` against their folded columns)."""
    where = [
        _condition(_folded(model, f.name) if f.op == "contains" else getattr(model, f.name), f)
        for f in query.filters
    ]
    for term in query.search:
        where.append(
            sa.or_(*(contains_folded(_folded(model, name), term) for name in query.search_fields))
        )
    return where


def _folded(model: type[Any], name: str) -> Any:
    column = getattr(model, folded_name(name), None)
    if column is None:  # `core.crud.check_model` refuses such a model at definition
        raise TypeError(f"{model.__name__} has no {folded_name(name)} column (core.folding.folded)")
    return column


def count(
    session: Session | scoped_session[Any],
    model: type[Any],
    where: list[sa.ColumnElement[bool]],
    policy: str = ESTIMATED,
    exact_up_to: int | None = None,
) -> tuple[int, bool]:
    """How many *model* rows match *where*, and whether that is exact.

    An exact count reads every matching row (or its index entry): at a
    million rows, tens of milliseconds for each list. So by *policy*:

    - `ESTIMATED` (the default): counted up to *exact_up_to* + 1 rows
      (`COUNT_EXACT_UP_TO` unless given); exact
      when no more match, else PostgreSQL's estimate (its planner's, from
      its statistics; never below *exact_up_to* + 1);
    - `EXACT`: always counted;
    - `PLANNED`: the estimate alone.

    SQLite has no estimate: it always counts.
    """
    bind = session.get_bind()
    exact_up_to = COUNT_EXACT_UP_TO if exact_up_to is None else exact_up_to
    matching: sa.Select[Any] = sa.select(sa.literal_column("1")).select_from(model).where(*where)
    if policy == EXACT or bind.dialect.name != "postgresql":
        return (
            session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0,
            True,
        )
    floor = 0
    if policy == ESTIMATED:
        some = matching.limit(exact_up_to + 1).subquery()
        found = session.scalar(sa.select(sa.func.count()).select_from(some)) or 0
        if found <= exact_up_to:
            return found, True
        floor = exact_up_to + 1
    return max(_planned_rows(session, matching), floor), False


def _planned_rows(session: Session | scoped_session[Any], statement: sa.Select[Any]) -> int:
    """The rows PostgreSQL's planner expects *statement* to give (``EXPLAIN``)."""
    connection = session.connection()
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
    return int(plan.scalar_one()[0]["Plan"]["Plan Rows"])


def _nullable(column: Any) -> bool:
    return bool(column.property.columns[0].nullable)


def _order(model: type[Any], sort: tuple[tuple[str, bool], ...], flip: bool) -> list[Any]:
    """ORDER BY *sort* (reversed when *flip*), empty values last ascending and
    first descending, as PostgreSQL orders and indexes them, on SQLite too."""
    order = []
    for name, descending in sort:
        column = getattr(model, name)
        descending = descending != flip
        term = column.desc() if descending else column.asc()
        if _nullable(column):
            term = term.nulls_first() if descending else term.nulls_last()
        order.append(term)
    return order


def _keyset(model: type[Any], sort: tuple[tuple[str, bool], ...], cursor: Cursor) -> Any:
    """The rows after *cursor*'s key in the order of *sort* (before it: in the
    reversed order): ``k1 > v1 OR (k1 = v1 AND k2 > v2) OR ...`` (and the
    row itself for `FROM` and `UP_TO`), with the range ``k1 >= v1`` an index on the first
    sort field can start from."""
    keys = [
        (getattr(model, name), descending != cursor.before, value)
        for (name, descending), value in zip(sort, cursor.values, strict=True)
    ]
    alternatives = []
    for i, (column, descending, value) in enumerate(keys):
        same = [_equal(c, v) for c, _, v in keys[:i]]
        alternatives.append(sa.and_(*same, _comes_after(column, descending, value)))
    if cursor.inclusive:
        alternatives.append(sa.and_(*(_equal(c, v) for c, _, v in keys)))
    first, descending, value = keys[0]
    return sa.and_(_comes_from(first, descending, value), sa.or_(*alternatives))


def _equal(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == _bind(column, value)


def _comes_after(column: Any, descending: bool, value: Any) -> Any:
    """*column*'s value comes after *value* (empty last ascending, first descending)."""
    if descending:
        return column.is_not(None) if value is None else column < _bind(column, value)
    if value is None:
        return sa.false()
    after = column > _bind(column, value)
    return sa.or_(after, column.is_(None)) if _nullable(column) else after


def _comes_from(column: Any, descending: bool, value: Any) -> Any:
    """*column*'s value is *value* or comes after it: a range of an index on *column*."""
    if descending:
        return sa.true() if value is None else column <= _bind(column, value)
    if value is None:
        return column.is_(None)
    start = column >= _bind(column, value)
    return sa.or_(start, column.is_(None)) if _nullable(column) else start


def paginate(session: Session | scoped_session[Any], model: type[Any], query: ListQuery) -> Page:
    """One page of *model* rows (plain rows, `row_columns`) matching *query*,
    the total (`count`), and the cursors of the pages before and after it.

    By page number, the page is ``OFFSET`` rows in, and the database reads
    those first; by cursor, it is read from the cursor's row on, whatever its
    depth. One row more than the page is read, to know whether another follows.
    """
    where = conditions(model, query)
    total, exact = count(session, model, where, query.count)
    cursor = query.cursor
    backwards = cursor is not None and cursor.before
    statement = (
        sa.select(*row_columns(model))
        .where(*where)
        .order_by(*_order(model, query.sort, flip=backwards))
        .limit(query.page_size + 1)
    )
    if cursor is None:
        statement = statement.offset(query.offset)
    else:
        statement = statement.where(_keyset(model, query.sort, cursor))
    rows = list(session.execute(statement).all())
    more = len(rows) > query.page_size
    del rows[query.page_size :]
    if backwards:
        rows.reverse()
    if cursor is None:
        earlier, later = query.page > 1, more
    else:
        earlier, later = (more, True) if backwards else (True, more)
    bound_to = query.fingerprint()

    def token(direction: str, row: Any) -> str | None:
        if row is not None:
            return encode(
                Cursor(direction, tuple(getattr(row, n) for n, _ in query.sort)), bound_to
            )
        # An empty page by cursor (its rows have gone): back to its own row,
        # that row included (it is not on this page).
        if cursor is None or (direction == BEFORE) == cursor.before:
            return None
        return encode(Cursor(UP_TO if direction == BEFORE else FROM, cursor.values), bound_to)

    return Page(
        rows,
        None if cursor is not None else query.page,
        query.page_size,
        total,
        exact,
        cursor=encode(cursor, bound_to) if cursor is not None else None,
        prev_cursor=token(BEFORE, rows[0] if rows else None) if earlier else None,
        next_cursor=token(AFTER, rows[-1] if rows else None) if later else None,
        keyed=True,
    )


def row_columns(model: type[Any]) -> tuple[Any, ...]:
    """*model*'s table columns, named as its attributes: read plain rows (``row.name``).

    Reads need no identity map and no change tracking; statements on these
    columns skip the ORM, which made reading one entity about a fifth cheaper
    here, and creating one (``INSERT ... RETURNING``) more. Change through ORM
    objects, read through rows. Folded columns (`core.folding`) are for
    queries only: rows leave them out.
    """
    return tuple(
        attr.columns[0].label(attr.key)
        for attr in sa.inspect(model).column_attrs
        if FOLDS not in attr.columns[0].info
    )
