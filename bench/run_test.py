"""The bench's own arithmetic and parsing (the measurements run with ./pants run bench:run)."""

import datetime as dt
import itertools
import math
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa

import migrate
from bench.references import baseline, entities
from bench.run import _ms, geomean, parse_wrk
from bench.scale import DEEP_PAGE, list_cases, markdown, summary, table
from bench.seeding import PURPOSES, name_of, row, secondary_indexes, seed_rows
from core.auth import mint_token
from core.database import scratch_database

WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:5000/api/math/sum?a=1&b=2
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.49ms    6.76ms  50.52ms   89.78%
    Req/Sec     2.07k   213.45     2.29k    80.00%
  Latency Distribution
     50%    4.41ms
     75%    7.67ms
     90%   13.58ms
     99%   36.02ms
  2063 requests in 1.00s, 367.32KB read
  Non-2xx or 3xx responses: 3
Requests/sec:   2054.73
Transfer/sec:    365.69KB
"""


def test_parse_wrk() -> None:
    load = parse_wrk(WRK_OUTPUT)
    assert (load.rps, load.p50_ms, load.p99_ms, load.requests, load.errors) == (
        2054.73,
        4.41,
        36.02,
        2063,
        3,
    )


@pytest.mark.parametrize(("text", "ms"), [("850us", 0.85), ("4.41ms", 4.41), ("1.5s", 1500.0)])
def test_units(text: str, ms: float) -> None:
    assert _ms(text) == pytest.approx(ms)


def test_geomean_ignores_what_is_not_a_figure() -> None:
    assert geomean([2.0, 8.0]) == pytest.approx(4.0)
    assert geomean([4.0, math.nan, 0.0]) == pytest.approx(4.0)
    assert math.isnan(geomean([]))


# -- lists at scale -------------------------------------------------------------------

ROWS = 300
FOLDS = {"name": "name_folded", "purpose": "purpose_folded", "owner_id": "owner_id_folded"}


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated then seeded with `ROWS` rows; its indexes as migrated are
    kept in ``MIGRATED_INDEXES``."""
    folder = tmp_path_factory.mktemp("seeded")
    with scratch_database(os.environ.get("DATABASE_URL"), folder, "benchtest") as url:
        migrate.upgrade_all(url)
        MIGRATED_INDEXES.update(_indexes(url))
        seed_rows(url, ROWS)
        yield url


MIGRATED_INDEXES: dict[str, str] = {}


def _indexes(url: str) -> dict[str, str]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        found = secondary_indexes(conn)
    engine.dispose()
    return found


def _rows(url: str) -> Sequence[Any]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(entities).order_by(entities.c.id)).all()
    engine.dispose()
    return rows


def test_seeded_folds_are_casefolds(seeded_url: str) -> None:
    rows = _rows(seeded_url)
    assert [r.id for r in rows] == list(range(1, ROWS + 1))
    for r in rows:
        for source, folded in FOLDS.items():
            assert getattr(r, folded) == getattr(r, source).casefold()


def test_seeded_rows_are_those_described(seeded_url: str) -> None:
    rows = _rows(seeded_url)
    start = rows[-1].created_at
    for r in rows:
        expected = row(r.id, ROWS, start)
        assert (r.name, r.purpose, r.owner_id) == (
            expected["name"],
            expected["purpose"],
            expected["owner_id"],
        )
        assert re.fullmatch(r"entity \d{7} [0-9a-f]{8}", r.name)
    times = [r.created_at for r in rows]
    assert all(b - a == dt.timedelta(seconds=1) for a, b in itertools.pairwise(times))
    assert len({r.purpose for r in rows}) == PURPOSES


def test_seeding_keeps_the_migrated_schema_and_the_ids_going(seeded_url: str) -> None:
    assert MIGRATED_INDEXES and _indexes(seeded_url) == MIGRATED_INDEXES
    engine = sa.create_engine(seeded_url, poolclass=sa.NullPool)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        new = conn.execute(
            entities.insert()
            .values(name="n", purpose=None, owner_id="o", created_at=now, updated_at=now, version=1)
            .returning(entities.c.id)
        ).scalar_one()
        conn.execute(entities.delete().where(entities.c.id == new))
    engine.dispose()
    assert new == ROWS + 1


def test_names_give_the_selectivity_the_cases_expect() -> None:
    names = [name_of(i) for i in range(1, 100_001)]
    assert 0.001 <= sum("abc" in n for n in names) / len(names) <= 0.003
    assert not any("zzz" in n for n in names)


@pytest.fixture
def baseline_client(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    monkeypatch.setenv("JWT_SECRET", "test-secret-" + "x" * 32)
    app: Any = baseline()
    token = mint_token("test-secret-" + "x" * 32, "t", "entity:read", lifetime=60)

    def get(query: str) -> Any:
        response = app.test_client().get(
            f"/api/entities?{query}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    return get


def test_baseline_filters_and_searches_as_the_service_does(baseline_client: Any) -> None:
    names = {i: name_of(i) for i in range(1, ROWS + 1)}
    contains = baseline_client("filter[name][contains]=a1&pageSize=100")
    assert contains["meta"]["total"] == sum("a1" in n for n in names.values())
    search = baseline_client("search=ENTITY%20a1%20purpose&pageSize=100")
    assert [e["id"] for e in search["data"]] == [e["id"] for e in contains["data"]]
    purpose = baseline_client("filter[purpose]=purpose%207")
    assert purpose["meta"]["total"] == sum(i % PURPOSES == 7 for i in names)
    since = baseline_client(f"filter[id]={ROWS - 29}")["data"][0]["createdAt"]
    assert baseline_client(f"filter[createdAt][gte]={since}")["meta"]["total"] == 30
    assert baseline_client("search=zzz")["meta"]["total"] == 0


def test_baseline_keyset_page_is_the_next_page(baseline_client: Any) -> None:
    second = baseline_client("sort=-createdAt&page=2&pageSize=10")
    last = second["data"][-1]
    after = baseline_client(f"sort=-createdAt&pageSize=10&after={last['createdAt']},{last['id']}")
    third = baseline_client("sort=-createdAt&page=3&pageSize=10")
    assert [e["id"] for e in after["data"]] == [e["id"] for e in third["data"]]
    assert "after=" in after["links"]["next"]


def test_list_cases_ask_for_the_page_halfway_down() -> None:
    cases = {c.name: c for c in list_cases(1_000_000, "T")}
    assert len(cases) == 10
    assert cases[DEEP_PAGE].query == "sort=-createdAt&page=25000"
    assert "filter[createdAt][gte]=T" in cases["range"].query
    assert "sort=" not in cases["range"].query
    by_time = cases["range, by createdAt"].query
    assert "filter[createdAt][gte]=T" in by_time and "sort=-createdAt" in by_time


def test_markdown_says_which_cases_meet_the_target() -> None:
    figure = {"rps": 100.0, "p99_1c_ms": 90.0, "cpu_ms": 2.0, "errors": 0.0}
    figures = {
        "when": "2026-12-02 19:00 UTC",
        "machine": "a machine",
        "database": "postgresql",
        "database_version": "PostgreSQL 15",
        "indexes": ["ix_entities_name"],
        "rows": 1_000_000,
        "quick": False,
        "how": "3 rounds",
        "seeded": {"load_s": 4.0, "index_s": 8.0, "analyze_s": 1.0, "total_s": 13.0},
        "cases": [{"name": "contains", "query": "filter[name][contains]=abc", "what": "w"}],
        "differing": [],
        "measurements": {
            "contains service": {**figure, "p50_1c_ms": 60.0, "rps": 50.0},
            "contains baseline": {**figure, "p50_1c_ms": 12.0},
        },
        "writes": {"service": {"with": 300.0, "without": 400.0, "errors": 0.0}},
    }
    page = markdown(figures)
    assert page.startswith("# Lists at scale: postgresql, 1,000,000 entities")
    assert "| contains | service | 60.0 | 90.0 | 50 | 2.00 | 0 | no | 0.50 |" in page
    assert "| contains | baseline | 12.0 | 90.0 | 100 | 2.00 | 0 | yes |  |" in page
    assert "| service | 300 | 400 | 0.75 |" in page
    assert "seeded in 13.0 s" in page
    assert "meets the target in 0 of 1 cases; misses: contains (60 ms)." in page


def test_a_case_where_no_request_finished_is_a_miss() -> None:
    finished = {"rps": 5.0, "p50_1c_ms": 40.0, "p99_1c_ms": 45.0, "cpu_ms": 1.0, "errors": 0.0}
    figures = {
        "cases": [{"name": "search"}, {"name": "contains"}, {"name": "equality"}],
        "measurements": {
            "search service": {**finished, "p50_1c_ms": 0.0, "p99_1c_ms": 0.0},
            "contains service": {**finished, "p50_1c_ms": 61.0},
            "equality service": {**finished, "p50_1c_ms": 50.0},
        },
    }
    assert summary(figures) == (
        "The service meets the target in 1 of 3 cases; misses: search (none finished), "
        "contains (61 ms)."
    )
    assert "| search | service | none finished | - |" in table(figures)
