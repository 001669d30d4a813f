import datetime as dt
import time
from collections.abc import Iterator

import pytest
from marshmallow import Schema, ValidationError

from core.fields import Integer, UtcDateTime


class Sample(Schema):
    n = Integer()
    at = UtcDateTime()


@pytest.mark.parametrize("text", ["1", "-7", "+3", "0"])
def test_integer_takes_plain_digits(text: str) -> None:
    assert Sample().load({"n": text})["n"] == int(text)


@pytest.mark.parametrize(
    "text", [" 1", "1_000", "١", "1.5", "1e3", "", "0x10", "9" * 20, True]  # noqa: RUF001
)
def test_integer_refuses_what_python_int_would_stretch_to(text: object) -> None:
    with pytest.raises(ValidationError):
        Sample().load({"n": text})


def test_utc_datetime_dumps_with_z_and_takes_naive_as_utc() -> None:
    naive = dt.datetime(2026, 1, 2, 3, 4, 5)
    assert Sample().dump({"at": naive})["at"] == "2026-01-02T03:04:05Z"
    plus_two = dt.datetime(2026, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert Sample().dump({"at": plus_two})["at"] == "2026-01-02T03:04:05Z"


def test_utc_datetime_loads_only_with_an_offset() -> None:
    assert Sample().load({"at": "2026-01-02T05:04:05+02:00"})["at"] == dt.datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC
    )
    with pytest.raises(ValidationError):
        Sample().load({"at": "2026-01-02T03:04:05"})


@pytest.fixture
def machine_zone_plus_0530(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone set to +05:30 for one test (then back)."""
    monkeypatch.setenv("TZ", "IST-5:30")  # POSIX: needs no zone files
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("machine_zone_plus_0530")
def test_utc_datetime_loads_into_utc_whatever_the_machines_zone() -> None:
    assert time.localtime(0).tm_gmtoff == 5 * 3600 + 1800  # the zone took
    loaded = Sample().load({"at": "2026-01-02T05:04:05+02:00"})["at"]
    assert loaded.utcoffset() == dt.timedelta(0)
    assert loaded.isoformat() == "2026-01-02T03:04:05+00:00"


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-02T03:04:05",  # no offset
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    ],
)
def test_utc_datetime_refusals_say_what_was_expected(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        Sample().load({"at": text})
    assert info.value.messages == {"at": ["Not a valid datetime."]}
