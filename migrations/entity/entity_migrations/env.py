"""Alembic's environment for the entity line (loaded by path by alembic)."""

from entity_migrations import line

line.run_environment()
