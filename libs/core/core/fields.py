"""marshmallow fields with the strictness an HTTP API needs.

marshmallow's own are lenient where Python is: ``Integer`` takes ``" 1"``,
``"1_000"`` and non-ASCII digits (``int()`` does), ``DateTime`` takes naive
times. These take only what the docs promise.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from marshmallow import fields

__all__ = ["Integer", "String", "UtcDateTime"]

_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
INT64_MAX = 2**63 - 1


class Integer(fields.Integer):
    """A 64-bit integer; from text, only an optional sign and ASCII digits."""

    default_error_messages = {"range": "Must be between -2^63+1 and 2^63-1."}

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, str) and not _INTEGER.fullmatch(value)):
            raise self.make_error("invalid")
        number: int = super()._validated(value)
        if abs(number) > INT64_MAX:
            raise self.make_error("range")
        return number


class String(fields.String):
    """A string every database can store: no NUL character, valid Unicode."""

    default_error_messages = {
        "nul": "Must not contain a NUL character.",
        "unicode": "Must be valid Unicode (no lone surrogates).",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.make_error("unicode") from None
        return text


class UtcDateTime(fields.DateTime):
    """An ISO 8601 time in UTC: dumped with ``Z``; loaded only with an offset.

    Naive values read from the database (SQLite keeps no zone) are taken as UTC.
    """

    def _serialize(
        self, value: dt.datetime | None, attr: str | None, obj: Any, **kwargs: Any
    ) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        loaded = super()._deserialize(value, attr, data, **kwargs)
        if loaded.tzinfo is None:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        try:
            return loaded.astimezone(dt.UTC)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
