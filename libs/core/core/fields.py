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

__all__ = ["Integer", "UtcDateTime"]

_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")


class Integer(fields.Integer):
    """An integer; from text, only an optional sign and ASCII digits."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, str) and not _INTEGER.fullmatch(value):
            raise self.make_error("invalid")
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


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
        return loaded.astimezone(dt.UTC)
