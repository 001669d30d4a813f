"""The note service's alembic line: its own scripts and its own version table
(`core.migrations`). ``main`` is ``./pants run migrations/note:alembic``."""

import note.model  # noqa: F401  (its tables, on the metadata of db)
from core.migrations import MigrationLine
from note.db import db

line = MigrationLine("note", __file__, db.metadata)
main = line.main
