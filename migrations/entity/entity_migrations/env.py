"""Alembic's environment for the entity line (loaded by path by alembic)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

import entity.model  # noqa: F401  (registers the entity tables on the metadata)
from entity_api.db import db
from entity_migrations import VERSION_TABLE

config = context.config
target_metadata = db.metadata


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        version_table=VERSION_TABLE,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = sa.create_engine(str(config.get_main_option("sqlalchemy.url")), poolclass=sa.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=VERSION_TABLE,
            # SQLite alters tables by copying them; batch mode does that.
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
