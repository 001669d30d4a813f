"""Keyset cursors: the ``cursor`` of ``links.next`` and ``links.prev``.

A cursor names a row of a list by its sort key (the values of the list's
sort fields, ``id`` last) and a direction: the page *after* that row, or the
page *before* it. The page is then read as ``WHERE key > row's key ORDER BY
key LIMIT n``, which an index on the sort field serves from that row on: its
cost does not grow with its depth in the list, as ``OFFSET`` does
(`core.query.paginate`).

A token is ``<payload>.<digest>``: the payload is base64url of the JSON
``[direction, [value, ...]]``, and the digest a keyed BLAKE2b of the payload
and the list query's *fingerprint* (its sort, filters and search, not its
page size). A cursor used with another query, or changed, fails the digest:
a 400. The digest guards integrity, not secrecy: the payload is readable,
and a cursor forged on purpose names no more than a filter could, since its
values are parsed as a filter's are (`core.query.ListQuerySpec`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AFTER",
    "BEFORE",
    "FROM",
    "UP_TO",
    "Cursor",
    "CursorError",
    "decode",
    "encode",
    "fingerprint",
]

AFTER, BEFORE, FROM, UP_TO = "after", "before", "from", "upto"
"""The page after the row, or before it; or starting with it, or ending with
it (the ways on from an empty page, whose rows have gone, to its row)."""
_KEY = b"core.cursor/1"
_DIGEST_SIZE = 12
MAX_TOKEN_LENGTH = 2048
"""A longer ``cursor`` is refused before it is decoded."""


class CursorError(ValueError):
    """The token is not a cursor of this list query."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """The row a page is read from: its sort key's *values* (wire form: a time
    as ISO 8601 text), and whether the page comes `AFTER` or `BEFORE` it,
    or starts (`FROM`) or ends (`UP_TO`) with it."""

    direction: str
    values: tuple[Any, ...]

    @property
    def before(self) -> bool:
        """The page is read backwards, from the row towards the list's start."""
        return self.direction in (BEFORE, UP_TO)

    @property
    def inclusive(self) -> bool:
        """The page holds the row itself."""
        return self.direction in (FROM, UP_TO)


def fingerprint(*parts: Any) -> bytes:
    """What binds a cursor to its list query: a digest of *parts* (its sort,
    filters and search, as plain values)."""
    text = json.dumps(parts, default=_plain, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def encode(cursor: Cursor, bound_to: bytes) -> str:
    """The token of *cursor*, for the query of fingerprint *bound_to*."""
    values = [wire_value(v) for v in cursor.values]
    text = json.dumps([cursor.direction, values], separators=(",", ":"))
    payload = base64.urlsafe_b64encode(text.encode()).rstrip(b"=")
    return f"{payload.decode()}.{_digest(payload, bound_to)}"


def decode(token: str, bound_to: bytes) -> Cursor:
    """The cursor of *token*, or `CursorError` when it was changed or made
    for another query than the one of fingerprint *bound_to*."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise CursorError("Not a cursor of this list (too long).")
    payload, dot, digest = token.partition(".")
    if not dot or not hmac.compare_digest(digest, _digest(payload.encode(), bound_to)):
        raise CursorError(
            "Not a cursor of this list query: changed, or from another sort, filter or search."
        )
    try:
        direction, values = json.loads(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        )
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):  # a digest forged too
        raise CursorError("Not a cursor of this list query.") from None
    if direction not in (AFTER, BEFORE, FROM, UP_TO) or not isinstance(values, list):
        raise CursorError("Not a cursor of this list query.")
    return Cursor(direction, tuple(values))


def wire_value(value: Any) -> Any:
    """A sort key's value as a cursor holds it: a time as ISO 8601 in UTC
    (a naive one, as SQLite gives, taken as UTC), anything else as it is."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    return value


def _plain(value: Any) -> Any:
    """What JSON lacks, in *parts* of a fingerprint: times as `wire_value`, the rest as text."""
    if isinstance(value, dt.datetime):
        return wire_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _digest(payload: bytes, bound_to: bytes) -> str:
    digest = hashlib.blake2b(payload, key=_KEY, salt=bound_to[:16], digest_size=_DIGEST_SIZE)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
