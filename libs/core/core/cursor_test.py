import base64
import datetime as dt
import time
from decimal import Decimal

import pytest

from core.cursor import (
    AFTER,
    BEFORE,
    FROM,
    UP_TO,
    Cursor,
    CursorError,
    _digest,
    decode,
    encode,
    fingerprint,
)

BOUND = fingerprint((("name", False), ("id", False)), [], ())
CHANGED = r"Not a cursor of this list query: changed, or from another sort, filter or search\."


@pytest.mark.parametrize("direction", [AFTER, BEFORE, FROM, UP_TO])
def test_a_cursor_comes_back_as_it_went(direction: str) -> None:
    values = ("Ωmega ß", None, 7, dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC))
    token = encode(Cursor(direction, values), BOUND)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    found = decode(token, BOUND)
    assert found == Cursor(direction, ("Ωmega ß", None, 7, "2026-01-02T03:04:05.000006+00:00"))
    assert found.before is (direction in (BEFORE, UP_TO))
    assert found.inclusive is (direction in (FROM, UP_TO))


def test_a_naive_time_is_taken_as_utc() -> None:
    token = encode(Cursor(AFTER, (dt.datetime(2026, 1, 2, 3, 4, 5),)), BOUND)
    assert decode(token, BOUND).values == ("2026-01-02T03:04:05+00:00",)


def test_a_cursor_of_another_query_is_refused() -> None:
    token = encode(Cursor(AFTER, ("a", 1)), BOUND)
    for other in (
        fingerprint((("name", True), ("id", False)), [], ()),
        fingerprint((("name", False), ("id", False)), [("name", "eq", "a")], ()),
        fingerprint((("name", False), ("id", False)), [], ("a",)),
    ):
        with pytest.raises(CursorError, match=f"^{CHANGED}$"):
            decode(token, other)


def test_fingerprints_tell_values_and_times_apart() -> None:
    at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert fingerprint([("a", "eq", at)]) == fingerprint([("a", "eq", at)])
    assert fingerprint([("a", "eq", at)]) != fingerprint([("a", "eq", at + dt.timedelta(1))])
    assert fingerprint([("a", "eq", 1)]) != fingerprint([("a", "eq", "1")])
    assert fingerprint([("a", "in", (1, 2))]) != fingerprint([("a", "in", (2, 1))])


def test_a_too_long_token_is_refused_before_it_is_read() -> None:
    with pytest.raises(CursorError, match=r"^Not a cursor of this list \(too long\)\.$"):
        decode("A" * 2049, BOUND)


def test_a_token_of_the_longest_length_is_read() -> None:
    # 2,048 characters is not too long: it is refused only for its digest.
    with pytest.raises(CursorError, match=f"^{CHANGED}$"):
        decode("A" * 2048, BOUND)


def test_a_changed_payload_is_refused() -> None:
    token = encode(Cursor(AFTER, ("a", 1)), BOUND)
    payload, _, digest = token.partition(".")
    other = encode(Cursor(AFTER, ("b", 1)), BOUND).partition(".")[0]
    assert other != payload
    for changed in (f"{other}.{digest}", f"{payload}.{digest[:-1]}", payload, f"{payload}."):
        with pytest.raises(CursorError, match=f"^{CHANGED}$"):
            decode(changed, BOUND)


@pytest.mark.parametrize(
    "payload",
    [
        b"not base64 !",  # not base64url
        b"\xff\xfe",  # not UTF-8
        b"[after",  # not JSON
        b'["sideways", [1]]',  # no such direction
        b'["after", 1]',  # values not a list
        b'"after"',  # not a pair
        b'["after", [1], 2]',  # more than a pair
    ],
)
def test_a_payload_with_a_forged_digest_is_refused(payload: bytes) -> None:
    # The digest guards integrity, not secrecy (its key is in the code): what
    # is forged on purpose must still be a cursor.
    encoded = (
        payload if payload == b"not base64 !" else base64.urlsafe_b64encode(payload).rstrip(b"=")
    )
    token = f"{encoded.decode()}.{_digest(encoded, BOUND)}"
    with pytest.raises(CursorError, match=r"^Not a cursor of this list query\.$"):
        decode(token, BOUND)


def test_a_time_in_another_zone_is_held_in_utc() -> None:
    at = dt.datetime(2026, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    token = encode(Cursor(AFTER, (at, 3)), BOUND)
    assert decode(token, BOUND).values == ("2026-01-02T03:04:05+00:00", 3)


def test_fingerprints_of_dates_and_other_values() -> None:
    day = dt.date(2026, 1, 2)
    assert fingerprint([("a", "eq", day)]) == fingerprint([("a", "eq", "2026-01-02")])
    assert fingerprint([("a", "eq", day)]) != fingerprint([("a", "eq", dt.date(2026, 1, 3))])
    # A time and its same instant in another zone bind the same cursor.
    utc = dt.datetime(2026, 1, 2, 3, tzinfo=dt.UTC)
    plus_two = utc.astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert fingerprint([("a", "gte", utc)]) == fingerprint([("a", "gte", plus_two)])
    assert len(fingerprint("x")) == 16


def test_a_cursor_given_out_before_stays_valid() -> None:
    # A client may hold links.next across a deploy: the token of a cursor,
    # and what binds it to its query, do not change between releases.
    for values, token in [
        (("a", 1), "WyJhZnRlciIsWyJhIiwxXV0.WrY7eoUZqvGIbQ8h"),
        (("a", 29), "WyJhZnRlciIsWyJhIiwyOV1d.LwVPPDtwgO--llrX"),  # a digest ending in X
    ]:
        assert encode(Cursor(AFTER, values), BOUND) == token
        assert decode(token, BOUND) == Cursor(AFTER, values)


def test_a_dot_inside_the_payload_is_refused() -> None:
    # base64 decoding skips a character outside its alphabet: a token is split
    # at its first dot, so a payload cannot carry one past its digest.
    payload = encode(Cursor(AFTER, ("a", 1)), BOUND).partition(".")[0]
    dotted = f"{payload[:4]}.{payload[4:]}"
    with pytest.raises(CursorError, match=f"^{CHANGED}$"):
        decode(f"{dotted}.{_digest(dotted.encode(), BOUND)}", BOUND)


def test_times_are_held_in_utc_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        naive = dt.datetime(2026, 1, 2, 3, 4, 5)
        aware = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        for value in (naive, aware):
            token = encode(Cursor(AFTER, (value,)), BOUND)
            assert decode(token, BOUND).values == ("2026-01-02T03:04:05+00:00",)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_fingerprints_of_values_json_lacks_tell_them_apart() -> None:
    assert fingerprint([("a", "eq", Decimal("1.5"))]) == fingerprint([("a", "eq", "1.5")])
    assert fingerprint([("a", "eq", Decimal("1.5"))]) != fingerprint([("a", "eq", Decimal("2.5"))])
