"""The entity service's alembic line: its own scripts and its own version table."""

VERSION_TABLE = "alembic_version_entity"
