"""Database behaviour that must not depend on which database it is.

SQLite's ``lower()`` folds ASCII only, so a case-insensitive ``contains`` or
``search`` would find ``éclair`` in ``Éclair`` on PostgreSQL and not on SQLite.
`use_unicode_lower_in_sqlite` gives every SQLite connection Python's
``str.lower`` under that name.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa

__all__ = ["use_unicode_lower_in_sqlite"]


def _register_lower(dbapi_connection: Any, connection_record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(
            "lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True
        )


def use_unicode_lower_in_sqlite() -> None:
    """Register the ``lower`` replacement on every SQLite connection from now on (once)."""
    if not sa.event.contains(sa.engine.Engine, "connect", _register_lower):
        sa.event.listen(sa.engine.Engine, "connect", _register_lower)
