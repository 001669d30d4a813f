"""`core.database.unavailable`: which errors are the database being out of
reach, what the client is told, and what is logged (once per outage)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from core import database
from core.database import RETRY_AFTER, unavailable, watch_connections


@pytest.fixture(autouse=True)
def no_outage() -> Iterator[None]:
    """Each test starts, and leaves, with the database reachable."""
    database._outage.clear()
    yield
    database._outage.clear()


def refused() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "core.database"]


@pytest.mark.parametrize(
    ("error", "named"),
    [
        (refused(), "ConnectionRefusedError"),  # the driver's error, not SQLAlchemy's wrapper
        (sa.exc.InterfaceError("SELECT 1", {}, OSError("gone")), "OSError"),
        (sa.exc.TimeoutError("QueuePool limit reached"), "TimeoutError"),  # no driver error
    ],
)
def test_an_unreachable_database_is_a_503_with_retry_after(
    error: BaseException, named: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "core.database")
    answer = unavailable(error)
    assert answer is not None
    assert answer.status == 503
    assert answer.detail == "The database cannot be reached now; try again later."
    assert answer.headers == {"Retry-After": RETRY_AFTER}
    assert warnings(caplog) == [f"database unavailable: {named}"]


@pytest.mark.parametrize(
    "error",
    [
        sa.exc.IntegrityError("INSERT", {}, Exception("duplicate")),
        sa.exc.ProgrammingError("SELECT", {}, Exception("syntax")),
        ValueError("not the database"),
    ],
)
def test_other_errors_are_not_an_outage(
    error: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "core.database")
    assert unavailable(error) is None
    assert warnings(caplog) == []
    assert not database._outage.is_set()


def test_an_outage_is_logged_once_until_a_connection_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "core.database")
    watch_connections()
    for _ in range(3):
        assert unavailable(refused()) is not None
    assert warnings(caplog) == ["database unavailable: ConnectionRefusedError"]
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect():  # a new connection: the outage is over
            pass
    finally:
        engine.dispose()
    assert unavailable(sa.exc.TimeoutError("QueuePool limit reached")) is not None
    assert warnings(caplog) == [
        "database unavailable: ConnectionRefusedError",
        "database reachable again",
        "database unavailable: TimeoutError",
    ]


def test_a_connection_without_an_outage_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "core.database")
    watch_connections()
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()
    assert warnings(caplog) == []
