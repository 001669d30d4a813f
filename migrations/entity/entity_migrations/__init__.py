"""The entity service's alembic line: its own scripts and its own version table
(`core.migrations`). ``main`` is ``./pants run migrations/entity:alembic``."""

import entity.model  # noqa: F401  (its tables, on the metadata of db)
from core.migrations import MigrationLine
from entity.db import db

line = MigrationLine("entity", __file__, db.metadata)
main = line.main
