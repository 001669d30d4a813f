"""Lists at scale, through the real app and database: keyset cursors over
every sort, in both directions; a cursor bound to its query; the count
policy; and, on PostgreSQL, the indexes that serve each list's statements."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from werkzeug.datastructures import MultiDict

import core.query
from core.cursor import AFTER, Cursor, encode
from core.query import ListQuerySpec

from .interfaces import EntityInterfaces

PATH = "/api/entities"
PROBLEM = "application/problem+json"
# Ties in name and purpose, empty purposes: every key order is tested.
ROWS = [
    ("b", "x"), ("a", None), ("c", "y"), ("a", "x"), ("b", None), ("a", "y"),
    ("d", "x"), ("c", None), ("b", "y"), ("a", "x"), ("e", None), ("c", "x"),
]  # fmt: skip
SORTS = [
    "id", "-id", "name", "-name", "purpose", "-purpose", "createdAt", "-createdAt",
    "name,-purpose", "-purpose,name", "-updatedAt,-name",
]  # fmt: skip


@pytest.fixture
def listed(client: FlaskClient) -> list[int]:
    ids = []
    for name, purpose in ROWS:
        response = client.post(PATH, json={"name": name, "purpose": purpose})
        assert response.status_code == 201
        ids.append(response.get_json()["data"]["id"])
    return ids


def ids_of(body: dict[str, Any]) -> list[int]:
    return [row["id"] for row in body["data"]]


def walk(client: FlaskClient, url: str, rel: str) -> tuple[list[int], int]:
    """The ids of every page from *url* on, following ``links[rel]``, in list order."""
    found: list[int] = []
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        found = found + ids_of(body) if rel == "next" else ids_of(body) + found
        pages += 1
        url = body["links"][rel]
    return found, pages


def cursor_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


@pytest.mark.parametrize("sort", SORTS)
def test_cursors_walk_every_sort_both_ways_as_the_whole_list(
    client: FlaskClient, listed: list[int], sort: str
) -> None:
    whole = ids_of(client.get(PATH, query_string={"sort": sort, "pageSize": 100}).get_json())
    assert sorted(whole) == sorted(listed)
    forward, pages = walk(client, f"{PATH}?sort={sort}&pageSize=5", "next")
    assert forward == whole and pages == 3
    last = client.get(f"{PATH}?sort={sort}&pageSize=5").get_json()["links"]["last"]
    assert last.endswith("page=3&pageSize=5")
    backward, pages = walk(client, last, "prev")
    assert backward == whole and pages == 3


def test_empty_values_sort_last_ascending_and_first_descending(
    client: FlaskClient, listed: list[int]
) -> None:
    up = client.get(PATH, query_string={"sort": "purpose", "pageSize": 100}).get_json()["data"]
    assert [row["purpose"] for row in up][-4:] == [None] * 4
    assert [row["purpose"] for row in up][:8] == ["x"] * 5 + ["y"] * 3
    down = client.get(PATH, query_string={"sort": "-purpose", "pageSize": 100}).get_json()
    assert [row["purpose"] for row in down["data"]][:4] == [None] * 4


def test_a_cursor_page_with_filters_and_search_keeps_them(
    client: FlaskClient, listed: list[int]
) -> None:
    query = {"filter[name]": "a", "search": "x", "sort": "-id", "pageSize": 1}
    first = client.get(PATH, query_string=query).get_json()
    assert first["meta"]["total"] == 2
    following = client.get(first["links"]["next"]).get_json()
    expected = [i for i, (n, p) in zip(listed, ROWS, strict=True) if n == "a" and p == "x"]
    assert ids_of(first) + ids_of(following) == sorted(expected, reverse=True)
    assert following["links"]["next"] is None and following["meta"]["page"] is None
    assert "filter%5Bname%5D=a" in following["links"]["self"]


def test_an_empty_page_by_cursor_leads_back_to_its_row(
    client: FlaskClient, listed: list[int]
) -> None:
    last_page = client.get(f"{PATH}?sort=id&pageSize=4&page=3").get_json()
    assert ids_of(last_page) == listed[8:] and last_page["links"]["next"] is None
    after = client.get(f"{PATH}?sort=id&pageSize=4").get_json()["links"]["next"]
    before = client.get(f"{PATH}?sort=id&pageSize=4&page=3").get_json()["links"]["prev"]
    for row_id in listed[4:8]:  # the rows between the two cursors go
        assert client.delete(f"{PATH}/{row_id}").status_code == 204
    # After row 4: rows 9-12 (5-8 are gone); before row 9: rows 1-4.
    assert ids_of(client.get(after).get_json()) == listed[8:]
    assert ids_of(client.get(before).get_json()) == listed[:4]
    for row_id in listed[8:]:
        assert client.delete(f"{PATH}/{row_id}").status_code == 204
    empty = client.get(after).get_json()  # nothing after row 4 now
    assert empty["data"] == [] and empty["links"]["next"] is None
    assert ids_of(client.get(empty["links"]["prev"]).get_json()) == listed[:4]  # row 4 too
    for row_id in listed[:4]:
        assert client.delete(f"{PATH}/{row_id}").status_code == 204
    assert client.post(PATH, json={"name": "late"}).status_code == 201
    empty = client.get(before).get_json()  # nothing before row 9 now
    assert empty["data"] == [] and empty["links"]["prev"] is None
    assert [r["name"] for r in client.get(empty["links"]["next"]).get_json()["data"]] == ["late"]


def test_the_page_size_may_change_along_the_way(client: FlaskClient, listed: list[int]) -> None:
    following = client.get(f"{PATH}?sort=name&pageSize=2").get_json()["links"]["next"]
    token = cursor_of(following)
    wider = client.get(PATH, query_string={"sort": "name", "cursor": token, "pageSize": 5})
    assert wider.status_code == 200 and len(wider.get_json()["data"]) == 5


def test_a_cursor_is_bound_to_its_sort_filters_and_search(
    client: FlaskClient, listed: list[int]
) -> None:
    following = client.get(PATH, query_string={"sort": "name", "pageSize": 2}).get_json()
    token = cursor_of(following["links"]["next"])
    for other in (
        {"sort": "-name"},
        {},
        {"sort": "name", "filter[purpose]": "x"},
        {"sort": "name", "search": "a"},
    ):
        response = client.get(PATH, query_string={**other, "cursor": token})
        assert response.status_code == 400 and response.content_type == PROBLEM, other
        problem = response.get_json()
        assert problem["errors"][0]["parameter"] == "cursor"
        assert "another sort, filter or search" in problem["errors"][0]["detail"]


def _changed(token: str) -> list[str]:
    payload, _, digest = token.partition(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded[1][-1] += 1  # another id
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return [
        f"{forged}.{digest}",
        f"{payload}.{digest[:-1]}{'A' if digest[-1] != 'A' else 'B'}",
        payload,
        f"{payload}.",
        f".{digest}",
        token[:-3],
        "x" * 3000,
        "",
        "..",
        "not a cursor",
    ]


def test_a_changed_or_made_up_cursor_is_a_400(client: FlaskClient, listed: list[int]) -> None:
    following = client.get(PATH, query_string={"sort": "-createdAt", "pageSize": 2}).get_json()
    token = cursor_of(following["links"]["next"])
    for bad in _changed(token):
        response = client.get(PATH, query_string={"sort": "-createdAt", "cursor": bad})
        assert response.status_code == 400 and response.content_type == PROBLEM, bad
        assert response.get_json()["errors"][0]["parameter"] == "cursor"
    good = client.get(PATH, query_string={"sort": "-createdAt", "cursor": token, "pageSize": 2})
    assert good.status_code == 200 and len(good.get_json()["data"]) == 2


@pytest.mark.parametrize(
    ("sort", "values"),
    [
        ("id", [2**63]),  # beyond 64 bits
        ("id", [True]),
        ("id", ["1"]),
        ("id", [1.5]),
        ("name", ["a\x00", 1]),  # a NUL no database stores
        ("name", ["\ud800", 1]),  # a lone surrogate, as JSON can carry it
        ("name", [7, 1]),
        ("name", ["a"]),  # too few values
        ("name", ["a", 1, 2]),  # too many
        ("createdAt", ["0001-01-01T00:00:00+01:00", 1]),  # before year 1 in UTC
        ("createdAt", ["2026-01-01T00:00:00", 1]),  # no offset
        ("createdAt", ["yesterday", 1]),
        ("createdAt", [20260101, 1]),
    ],
)
def test_a_cursor_made_up_with_a_valid_digest_is_still_only_a_400(
    client: FlaskClient, listed: list[int], sort: str, values: list[Any]
) -> None:
    # The digest's key is in the source: anyone can make a cursor that
    # passes it. Its values are then all that stands between it and the SQL.
    spec = ListQuerySpec(EntityInterfaces)
    bound = spec.parse(MultiDict({"sort": sort})).fingerprint()
    token = encode(Cursor(AFTER, tuple(values)), bound)
    response = client.get(PATH, query_string={"sort": sort, "cursor": token})
    assert response.status_code == 400 and response.content_type == PROBLEM
    assert response.get_json()["errors"] == [
        {"parameter": "cursor", "detail": "Not a cursor of this list query."}
    ]
    assert client.get(PATH, query_string={"sort": sort}).status_code == 200


def test_page_and_cursor_together_are_a_400(client: FlaskClient, listed: list[int]) -> None:
    following = client.get(f"{PATH}?pageSize=2").get_json()["links"]["next"]
    response = client.get(f"{following}&page=2")
    assert response.status_code == 400
    assert response.get_json()["errors"] == [
        {"parameter": "cursor", "detail": "Give page or cursor, not both."}
    ]


def test_count_takes_only_its_policies(client: FlaskClient) -> None:
    response = client.get(PATH, query_string={"count": "some"})
    assert response.status_code == 400
    assert response.get_json()["errors"] == [
        {"parameter": "count", "detail": "Must be one of: estimated, exact, planned."}
    ]


def test_counts_up_to_the_threshold_are_exact_and_beyond_estimated_on_postgresql(
    client: FlaskClient, listed: list[int], db: SQLAlchemy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core.query, "COUNT_EXACT_UP_TO", 5)
    small = client.get(PATH, query_string={"filter[name]": "a"})  # 4 rows: under it
    assert small.get_json()["meta"]["total"] == 4 and small.get_json()["meta"]["totalExact"]
    assert small.headers["X-Total-Count"] == "4"
    postgres = db.engine.dialect.name == "postgresql"
    for counting in ("estimated", "planned"):
        response = client.get(PATH, query_string={"count": counting, "pageSize": 5})
        body = response.get_json()
        if postgres:  # the planner's estimate, never under the rows seen
            assert body["meta"]["totalExact"] is False
            assert body["meta"]["total"] >= (6 if counting == "estimated" else 0)
            assert body["links"]["last"] is None and "X-Total-Count" not in response.headers
            assert 'rel="last"' not in response.headers["Link"]
        else:  # SQLite has no estimate: it counts
            assert body["meta"] == {"page": 1, "pageSize": 5, "total": 12, "totalExact": True}
            assert response.headers["X-Total-Count"] == "12"
        assert len(body["data"]) == 5 and body["links"]["next"]  # the pages do not depend on it
    exact = client.get(PATH, query_string={"count": "exact"})
    assert exact.get_json()["meta"]["total"] == 12 and exact.headers["X-Total-Count"] == "12"


# -- the indexes that serve the lists (PostgreSQL) --------------------------------


@contextlib.contextmanager
def statements(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL *engine* runs meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def plans(db: SQLAlchemy, client: FlaskClient, url: str, disabled: tuple[str, ...]) -> list[str]:
    """PostgreSQL's plan of each SELECT a GET of *url* runs, with the plans
    named in *disabled* (``enable_seqscan``, ...) off: what remains shows
    which index can serve the statement."""
    with statements(db.engine) as seen:
        assert client.get(url).status_code == 200
    found = []
    with db.engine.connect() as connection:
        for setting in disabled:
            connection.exec_driver_sql(f"SET {setting} = off")
        for statement, parameters in seen:
            if statement.lstrip().upper().startswith("SELECT") and "entities" in statement:
                rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
                found.append("\n".join(row[0] for row in rows))
        connection.rollback()
    return found


@pytest.fixture
def postgres(db: SQLAlchemy) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("indexes of PostgreSQL (DATABASE_URL names SQLite)")


@pytest.mark.usefixtures("postgres")
@pytest.mark.parametrize(
    ("query", "indexes"),
    [
        ("filter[name][contains]=abc", ["ix_entities_name_trgm"]),
        ("filter[ownerId][contains]=own", ["ix_entities_owner_id_trgm"]),
        ("search=entity%20abc", ["ix_entities_name_trgm", "ix_entities_purpose_trgm"]),
        ("search=zzz&sort=name", ["ix_entities_name_trgm", "ix_entities_purpose_trgm"]),
    ],
)
def test_contains_and_search_are_served_by_the_trigram_indexes(
    client: FlaskClient, db: SQLAlchemy, listed: list[int], query: str, indexes: list[str]
) -> None:
    # Without table scans and plain index scans, a statement whose LIKEs no
    # trigram index served could only be read as a (disabled) table scan.
    found = plans(db, client, f"{PATH}?{query}", ("enable_seqscan", "enable_indexscan"))
    assert len(found) == 2  # the count and the page
    for plan in found:
        assert "Seq Scan" not in plan, plan
        for index in indexes:
            assert f"Bitmap Index Scan on {index}" in plan, plan


@pytest.mark.usefixtures("postgres")
@pytest.mark.parametrize(
    ("sort", "index", "bound"),
    [
        ("-createdAt", "ix_entities_created_at", "created_at <="),
        ("createdAt", "ix_entities_created_at", "created_at >="),
        ("name", "ix_entities_name", "name)::text >="),
        ("-purpose", "ix_entities_purpose", "purpose)::text <="),
    ],
)
def test_a_cursor_page_starts_in_the_sort_fields_index(
    client: FlaskClient, db: SQLAlchemy, listed: list[int], sort: str, index: str, bound: str
) -> None:
    # 6 rows: the sixth's purpose, by -purpose, is no longer empty (empty
    # values come first descending, and have no range to start from).
    following = client.get(f"{PATH}?sort={sort}&pageSize=6").get_json()["links"]["next"]
    disabled = ("enable_seqscan", "enable_bitmapscan", "enable_sort")
    page = plans(db, client, following, disabled)[-1]
    assert f"Index Scan Backward using {index}" in page or f"Index Scan using {index}" in page
    assert "Index Cond:" in page and bound in page.split("Index Cond:")[1], page


@pytest.mark.usefixtures("postgres")
def test_a_time_range_sorted_by_its_field_is_one_range_of_its_index(
    client: FlaskClient, db: SQLAlchemy, listed: list[int]
) -> None:
    # The way to ask for the newest rows since a time (the bench's "range, by
    # createdAt"): the page is read from the createdAt index, from the range's
    # end, whatever the table's size. In the default order (id) the primary
    # key is walked instead, and the rows of the range may lie at its far end.
    url = f"{PATH}?filter[createdAt][gte]=2026-01-01T00:00:00Z&sort=-createdAt"
    page = plans(db, client, url, ("enable_seqscan", "enable_bitmapscan", "enable_sort"))[-1]
    assert "Index Scan Backward using ix_entities_created_at" in page, page
    assert "created_at >=" in page.split("Index Cond:")[1], page


def test_the_first_page_has_no_previous_one(client: FlaskClient, listed: list[int]) -> None:
    first = client.get(f"{PATH}?pageSize=5").get_json()["links"]
    assert first["prev"] is None and first["next"] is not None
    second = client.get(f"{PATH}?pageSize=5&page=2").get_json()["links"]
    assert second["prev"] is not None
    assert ids_of(client.get(second["prev"]).get_json()) == listed[:5]


def test_a_page_reads_one_row_more_than_it_shows(
    client: FlaskClient, db: SQLAlchemy, listed: list[int]
) -> None:
    # One more row says whether a next page exists, without reading further.
    with statements(db.engine) as seen:
        assert ids_of(client.get(f"{PATH}?pageSize=5").get_json()) == listed[:5]
    pages = [
        (sql, params) for sql, params in seen if "LIMIT" in sql.upper() and "OFFSET" in sql.upper()
    ]
    assert len(pages) == 1
    sql, params = pages[0]
    values = list(params.values()) if isinstance(params, dict) else list(params)
    assert values[-2:] == [6, 0], (sql, params)
