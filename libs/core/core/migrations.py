"""One alembic line per service: the generic line, environment and command line.

A service that owns tables has a line, the package ``<name>_migrations`` in
``migrations/<name>/``: its revisions in ``versions/``, alembic's
``script.py.mako``, an ``env.py`` of one call, and an ``__init__`` that
declares ``line = MigrationLine("<name>", __file__, db.metadata)`` with the
metadata of the service's models (its domain package, not its HTTP layer).
No ``alembic.ini``:

- the database is ``DATABASE_URL``, else the service's local SQLite file
  (`core.service.local_database_url`, the same file the service uses);
- the version table is the line's own (``alembic_version_<name>``), so that
  every service's line can share one database;
- ``env.py`` calls `MigrationLine.run_environment`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import CommandLine, Config

from .folding import TRIGRAM_INDEX_SUFFIX
from .registry import version_table
from .service import local_database_url

__all__ = ["MigrationLine"]


class MigrationLine:
    """Service *name*'s alembic line, its scripts beside *package_file*, its
    tables those of *metadata*."""

    def __init__(self, name: str, package_file: str, metadata: sa.MetaData) -> None:
        self.name = name
        self.metadata = metadata
        self.script_location = Path(package_file).parent
        self.version_table = version_table(name)

    def database_url(self) -> str:
        return os.environ.get("DATABASE_URL") or local_database_url(self.name)

    def make_config(self, url: str | None = None) -> Config:
        """An alembic config for this line, on *url* (default: the service's database)."""
        # stdout: the current one (alembic's default is bound when it is imported).
        config = Config(stdout=sys.stdout)
        config.set_main_option("script_location", str(self.script_location))
        # configparser interpolates %: URLs with escapes (%3D, ...) need %% here.
        config.set_main_option("sqlalchemy.url", (url or self.database_url()).replace("%", "%%"))
        return config

    def include_name(self, name: str | None, kind: str, parents: Mapping[Any, Any]) -> bool:
        """What alembic's autogenerate compares: this line's tables, not the
        other lines' (they share the database); and not the trigram indexes,
        which the migrations make on PostgreSQL alone
        (`core.folding.create_trigram_indexes`) and no model declares."""
        if kind == "table":
            return name in self.metadata.tables
        if kind == "index":
            return not (name or "").endswith(TRIGRAM_INDEX_SUFFIX)
        return True

    def differences(self, connection: sa.Connection) -> list[Any]:
        """What autogenerate finds between the database on *connection* and
        this line's models: nothing, once the line is at head."""
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext

        context = MigrationContext.configure(
            connection,
            opts={"version_table": self.version_table, "include_name": self.include_name},
        )
        return list(compare_metadata(context, self.metadata))

    def main(self, argv: Sequence[str] | None = None) -> None:
        """``./pants run migrations/<name>:alembic -- upgrade head`` (any alembic command)."""
        cli = CommandLine(prog="alembic")
        options = cli.parser.parse_args(argv)
        if not hasattr(options, "cmd"):
            cli.parser.error("too few arguments; try: upgrade head, downgrade -1, history, current")
        config = self.make_config()
        config.cmd_opts = options
        cli.run_cmd(config, options)

    def run_environment(self) -> None:
        """What ``env.py`` does: run alembic's migrations of this line (offline: as SQL)."""
        from alembic import context

        url = str(context.config.get_main_option("sqlalchemy.url"))
        if context.is_offline_mode():
            context.configure(
                url=url,
                target_metadata=self.metadata,
                literal_binds=True,
                version_table=self.version_table,
                render_as_batch=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            return
        engine = sa.create_engine(url, poolclass=sa.NullPool)
        try:
            with engine.connect() as connection:
                context.configure(
                    connection=connection,
                    target_metadata=self.metadata,
                    version_table=self.version_table,
                    include_name=self.include_name,
                    # SQLite alters tables by copying them; batch mode does that.
                    render_as_batch=connection.dialect.name == "sqlite",
                )
                with context.begin_transaction():
                    context.run_migrations()
        finally:
            engine.dispose()
