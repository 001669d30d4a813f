"""List queries, generic: parsed from a declaration, run against a real database."""

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from marshmallow import fields
from werkzeug.datastructures import MultiDict

from core import BadRequest, BaseInterfaces, Field
from core.conftest import Note, NoteInterfaces
from core.cursor import AFTER, BEFORE, Cursor, encode
from core.query import (
    MAX_IN_VALUES,
    MAX_PAGE,
    MAX_SEARCH_LENGTH,
    Filter,
    ListQuery,
    ListQuerySpec,
    conditions,
    paginate,
)

spec = ListQuerySpec(NoteInterfaces, default_page_size=10, max_page_size=50)


def parse(**args: str) -> ListQuery:
    return spec.parse(MultiDict(args))


def test_defaults() -> None:
    query = parse()
    assert (query.page, query.page_size, query.filters, query.search) == (1, 10, (), ())
    assert query.sort == (("id", False),)  # ties broken by id, always


def test_the_declaration_decides_what_is_allowed() -> None:
    assert spec.sortable == {"id", "title", "createdAt"}
    assert spec.operators == {
        "id": ("eq", "ne", "lt", "lte", "gt", "gte", "in"),
        "title": ("eq", "contains"),
        "createdAt": ("eq", "ne", "lt", "lte", "gt", "gte", "in"),
    }
    assert spec.searchable == ("title", "body_text")


def test_parses_everything_into_plain_values() -> None:
    query = parse(
        page="3",
        pageSize="50",
        sort="-createdAt,title",
        search="  red   fox ",
        **{"filter[id][in]": "1,2", "filter[createdAt][gte]": "2026-01-01T01:00:00+01:00"},
    )
    assert (query.page, query.page_size, query.offset) == (3, 50, 100)
    assert query.sort == (("created_at", True), ("title", False), ("id", False))
    assert query.search == ("red", "fox")
    assert query.filters == (
        Filter("id", "in", (1, 2)),
        Filter("created_at", "gte", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
    )


SORTABLE = "sortable fields: createdAt, id, title."


@pytest.mark.parametrize(
    ("args", "parameter", "detail"),
    [
        ({"pageSize": "51"}, "pageSize", "Must be between 1 and 50."),
        ({"pageSize": "1.5"}, "pageSize", "Not a valid integer."),
        ({"page": "0"}, "page", "Must be between 1 and 1000000000."),
        ({"page": "99999999999"}, "page", "Must be between 1 and 1000000000."),
        ({"page": "x"}, "page", "Not a valid integer."),
        ({"sort": "bodyText"}, "sort", f"Cannot sort by 'bodyText'; {SORTABLE}"),
        ({"sort": "-"}, "sort", f"Cannot sort by ''; {SORTABLE}"),
        (
            {"filter[bodyText]": "x"},
            "filter[bodyText]",
            "Cannot filter by 'bodyText'; filterable fields: createdAt, id, title.",
        ),
        (
            {"filter[title][ne]": "x"},
            "filter[title][ne]",
            "Unknown operator 'ne' for 'title'; use one of: eq, contains.",
        ),
        ({"filter[id][in]": ",".join(["1"] * 101)}, "filter[id][in]", "At most 100 values."),
        ({"filter[id][in]": "1,x"}, "filter[id][in]", "Not a valid integer."),
        ({"filter[id]": "1.0"}, "filter[id]", "Not a valid integer."),
        (
            {"filter[createdAt]": "0001-01-01T00:00:00+01:00"},
            "filter[createdAt]",
            "Not a valid datetime.",
        ),
        ({"search": "x" * 257}, "search", "At most 256 characters."),
        ({"count": "all"}, "count", "Must be one of: estimated, exact, planned."),
        ({"cursor": "x", "page": "2"}, "cursor", "Give page or cursor, not both."),
        (
            {"cursor": "x"},
            "cursor",
            "Not a cursor of this list query: changed, or from another sort, filter or search.",
        ),
        ({"filter": "x"}, "filter", "Unknown parameter."),
        ({"filter[id][eq][x]": "1"}, "filter[id][eq][x]", "Unknown parameter."),
        ({"bogus": "1"}, "bogus", "Unknown parameter."),
    ],
)
def test_rejects_naming_the_parameter_and_why(
    args: dict[str, str], parameter: str, detail: str
) -> None:
    with pytest.raises(BadRequest) as info:
        parse(**args)
    assert info.value.errors == [{"parameter": parameter, "detail": detail}]
    assert info.value.detail == f"Query parameter '{parameter}': {detail}"


@pytest.mark.parametrize(
    ("pairs", "parameter", "detail"),
    [
        ([("page", "1"), ("page", "2")], "page", "Given more than once."),
        (
            [("filter[title]", "a"), ("filter[title][eq]", "b")],
            "filter[title][eq]",
            "Given more than once (with and without [eq]).",
        ),
    ],
)
def test_repeated_parameters_are_rejected(
    pairs: list[tuple[str, str]], parameter: str, detail: str
) -> None:
    with pytest.raises(BadRequest) as info:
        spec.parse(MultiDict(pairs))
    assert info.value.errors == [{"parameter": parameter, "detail": detail}]


def test_equality_filters_of_two_fields_and_two_operators_of_one_go_together() -> None:
    query = spec.parse(
        MultiDict([("filter[title]", "a"), ("filter[id]", "1"), ("filter[id][ne]", "2")])
    )
    assert query.filters == (
        Filter("title", "eq", "a"),
        Filter("id", "eq", 1),
        Filter("id", "ne", 2),
    )


def test_a_sort_that_names_id_needs_no_tiebreak() -> None:
    assert parse(sort="-id").sort == (("id", True),)
    assert parse(sort="title,-id").sort == (("title", False), ("id", True))


def test_the_count_policy_is_parsed() -> None:
    assert parse().count == "estimated"
    assert parse(count="exact").count == "exact"
    assert parse(count="planned").count == "planned"


def test_a_list_without_search_or_filters_says_so() -> None:
    class Plain(BaseInterfaces):
        id = Field(fields.Integer(dump_only=True), "Identifier", sortable=True)

    plain = ListQuerySpec(Plain)
    for args, parameter, detail in [
        ({"search": "x"}, "search", "This list cannot be searched."),
        ({"filter[id]": "1"}, "filter[id]", "Cannot filter by 'id'; filterable fields: ."),
    ]:
        with pytest.raises(BadRequest) as info:
            plain.parse(MultiDict(args))
        assert info.value.errors == [{"parameter": parameter, "detail": detail}]


def test_unknown_operators_in_a_declaration_fail_at_once() -> None:
    class Odd(BaseInterfaces):
        size = Field(fields.Integer(), filterable=("eq", "near"))

    with pytest.raises(TypeError, match="near"):
        ListQuerySpec(Odd)


def test_documents_each_parameter() -> None:
    params = spec.params()
    assert set(params) == {
        "page", "pageSize", "cursor", "count", "sort", "search",
        "filter[id]", "filter[id][ne]", "filter[id][lt]", "filter[id][lte]",
        "filter[id][gt]", "filter[id][gte]", "filter[id][in]",
        "filter[title]", "filter[title][contains]",
        "filter[createdAt]", "filter[createdAt][ne]", "filter[createdAt][lt]",
        "filter[createdAt][lte]", "filter[createdAt][gt]", "filter[createdAt][gte]",
        "filter[createdAt][in]",
    }  # fmt: skip
    assert params["pageSize"]["maximum"] == 50 and params["pageSize"]["default"] == 10
    assert params["filter[id][in]"]["type"] == "array"
    assert params["filter[id][in]"]["items"]["type"] == "integer"
    assert params["sort"]["pattern"] == "^-?(createdAt|id|title)(,-?(createdAt|id|title))*$"


def test_paginate_counts_and_pages_in_the_database(db: SQLAlchemy) -> None:
    for title, body in [
        ("red fox", "quick"),
        ("Red hen", None),
        ("blue fox", "red"),
        ("50% off", "x"),
    ]:
        db.session.add(Note(title=title, body_text=body))
    db.session.commit()

    def titles(**args: str) -> tuple[list[str], int]:
        page = paginate(db.session, Note, parse(**args))
        return [n.title for n in page.items], page.total

    assert titles(pageSize="2") == (["red fox", "Red hen"], 4)
    assert titles(pageSize="2", page="2") == (["blue fox", "50% off"], 4)
    assert titles(sort="-title", **{"filter[title][contains]": "fox"}) == (
        ["red fox", "blue fox"],
        2,
    )
    assert titles(search="RED") == (["red fox", "Red hen", "blue fox"], 3)
    assert titles(search="red fox") == (["red fox", "blue fox"], 2)
    assert titles(**{"filter[title][contains]": "%"}) == (["50% off"], 1)
    assert titles(**{"filter[title][contains]": "_"}) == ([], 0)
    assert titles(**{"filter[title]": "Red hen"}) == (["Red hen"], 1)
    # Each ordered operator at the same bound: the third row's id.
    first, _, third, _ = sorted(n.id for n in db.session.scalars(sa.select(Note)))
    assert titles(**{"filter[id][lt]": str(third)}) == (["red fox", "Red hen"], 2)
    assert titles(**{"filter[id][lte]": str(third)}) == (["red fox", "Red hen", "blue fox"], 3)
    assert titles(**{"filter[id][gt]": str(third)}) == (["50% off"], 1)
    assert titles(**{"filter[id][gte]": str(third)}) == (["blue fox", "50% off"], 2)
    assert titles(**{"filter[id][ne]": str(third)}) == (["red fox", "Red hen", "50% off"], 3)
    assert titles(**{"filter[id][in]": f"{third},{first}"}) == (["red fox", "blue fox"], 2)


def test_a_model_without_the_fold_a_query_needs_is_named() -> None:
    # `core.crud.check_model` refuses such a model when it is defined; a
    # model used without it still gets a clear error, not an AttributeError.
    class Bare:
        pass

    with pytest.raises(
        TypeError, match=r"^Bare has no title_folded column \(core\.folding\.folded\)$"
    ):
        conditions(Bare, parse(**{"filter[title][contains]": "x"}))


def ids(count: int) -> str:
    return ",".join(str(n) for n in range(1, count + 1))


# Every limit of a list query, at the boundary on both sides: the last value
# accepted (and what it parses to), and the first refused (naming its parameter).
LIMITS = [
    ("page", "1", 1, "0"),
    ("page", str(MAX_PAGE), MAX_PAGE, str(MAX_PAGE + 1)),
    ("pageSize", "1", 1, "0"),
    ("pageSize", "50", 50, "51"),  # spec's max_page_size
    (
        "filter[id][in]",
        ids(MAX_IN_VALUES),
        (Filter("id", "in", tuple(range(1, MAX_IN_VALUES + 1))),),
        ids(MAX_IN_VALUES + 1),
    ),
    ("search", "x" * MAX_SEARCH_LENGTH, ("x" * MAX_SEARCH_LENGTH,), "x" * (MAX_SEARCH_LENGTH + 1)),
]


def parsed_value(query: ListQuery, parameter: str) -> Any:
    return {
        "page": query.page,
        "pageSize": query.page_size,
        "filter[id][in]": query.filters,
        "search": query.search,
    }[parameter]


@pytest.mark.parametrize(("parameter", "last_accepted", "parsed", "first_refused"), LIMITS)
def test_every_limit_at_its_boundary(
    parameter: str, last_accepted: str, parsed: Any, first_refused: str
) -> None:
    assert parsed_value(parse(**{parameter: last_accepted}), parameter) == parsed
    with pytest.raises(BadRequest) as info:
        parse(**{parameter: first_refused})
    assert info.value.errors[0]["parameter"] == parameter


def test_the_limits_are_the_documented_ones() -> None:
    assert (MAX_IN_VALUES, MAX_SEARCH_LENGTH) == (100, 256)
    params = spec.params()
    assert params["filter[id][in]"]["maxItems"] == MAX_IN_VALUES
    assert params["search"]["maxLength"] == MAX_SEARCH_LENGTH
    assert params["page"]["maximum"] == MAX_PAGE
    assert params["pageSize"]["minimum"] == 1 and params["pageSize"]["maximum"] == 50


def test_a_cursor_keeps_its_empty_values_whatever_the_field_allows() -> None:
    # A sorted column may hold NULL though its body field refuses null (title
    # does): the page after such a row is read from a cursor holding None.
    query = parse(sort="-title")
    token = encode(Cursor(BEFORE, (None, 7)), query.fingerprint())
    assert parse(sort="-title", cursor=token).cursor == Cursor(BEFORE, (None, 7))
    typed = encode(Cursor(AFTER, ("Hi", 7)), query.fingerprint())
    assert parse(sort="-title", cursor=typed).cursor == Cursor(AFTER, ("Hi", 7))
