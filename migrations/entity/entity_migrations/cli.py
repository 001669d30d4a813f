"""``./pants run migrations/entity:alembic -- upgrade head`` (any alembic command).

The database is the entity service's: ``DATABASE_URL``, or its local SQLite
default. Scripts live beside this file; no ``alembic.ini`` is needed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from alembic.config import CommandLine, Config

from entity_api.db import local_database_url


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or local_database_url()


def make_config(url: str | None = None) -> Config:
    """An alembic config for this line, on *url* (default: the service's database)."""
    # stdout: the current one (alembic's default is bound when it is imported).
    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(Path(__file__).parent))
    # configparser interpolates %: URLs with escapes (%3D, ...) need %% here.
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def main(argv: Sequence[str] | None = None) -> None:
    cli = CommandLine(prog="alembic")
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments; try: upgrade head, downgrade -1, history, current")
    config = make_config()
    config.cmd_opts = options
    cli.run_cmd(config, options)


if __name__ == "__main__":
    main()
