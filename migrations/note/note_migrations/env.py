"""Alembic's environment for the note line (loaded by path by alembic)."""

from note_migrations import line

line.run_environment()
