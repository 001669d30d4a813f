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
- ``search=foo bar``: every term matches some searchable field.

``contains`` and ``search`` compare folded text (`core.folding`): each
field they look in has its ``<field>_folded`` column.

Anything else, or a value of the wrong type, is a 400 naming the parameter.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import request
from marshmallow import ValidationError, fields
from sqlalchemy.orm import Session, scoped_session
from werkzeug.datastructures import MultiDict

from .decorators import document_errors, query_arguments
from .errors import parameter_error
from .fields import Integer
from .folding import FOLDS, contains_folded, folded_name
from .interfaces import NO_NUL_PATTERN, BaseInterfaces, Field, camel_case, query_param
from .response import Page

__all__ = [
    "OPERATORS",
    "Filter",
    "ListQuery",
    "ListQuerySpec",
    "accepts_list_query",
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

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def _default_operators(field: fields.Field[Any]) -> tuple[str, ...]:
    if isinstance(field, fields.Boolean):
        return _BOOLEAN_OPERATORS
    if isinstance(field, fields.Number | fields.DateTime | fields.Date):
        return _ORDERED_OPERATORS
    return _STRING_OPERATORS


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
            # The field parses filter values; its validators are for bodies.
            # Integers are parsed strictly (64-bit, digits only) whatever
            # Integer field was declared: the database must never see more.
            parser = Integer() if isinstance(f.field, fields.Integer) else copy.copy(f.field)
            parser.validators = []
            self._parsers[camel_case(name)] = parser
        self._tiebreak = "id" if "id" in declared else None

    # -- parsing ---------------------------------------------------------------

    def parse(self, args: MultiDict[str, str]) -> ListQuery:
        """Parse a query string; raise `BadRequest` naming the bad parameter."""
        page, page_size = 1, self.default_page_size
        sort: tuple[tuple[str, bool], ...] = ()
        filters: list[Filter] = []
        search: tuple[str, ...] = ()
        for key, value in query_arguments(args).items():
            if key == "page":
                page = self._integer(key, value, 1, MAX_PAGE)
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
        return ListQuery(page, page_size, sort, tuple(filters), search, self.searchable)

    @staticmethod
    def _integer(key: str, value: str, low: int, high: int) -> int:
        try:
            number: int = _PAGE_NUMBER.deserialize(value)
        except ValidationError:
            raise parameter_error(key, "Not a valid integer.") from None
        if not low <= number <= high:
            raise parameter_error(key, f"Must be between {low} and {high}.")
        return number

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


def paginate(session: Session | scoped_session[Any], model: type[Any], query: ListQuery) -> Page:
    """One page of *model* rows (plain rows, `row_columns`) matching *query*, and the total."""
    where = conditions(model, query)
    total = session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0
    order = [
        getattr(model, name).desc() if descending else getattr(model, name).asc()
        for name, descending in query.sort
    ]
    statement = (
        sa.select(*row_columns(model))
        .where(*where)
        .order_by(*order)
        .limit(query.page_size)
        .offset(query.offset)
    )
    return Page(session.execute(statement).all(), query.page, query.page_size, total)


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
