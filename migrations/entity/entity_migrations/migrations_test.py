"""The entity line on an empty database: up, down, up again; and it matches the models."""

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pytest import CaptureFixture, MonkeyPatch

import entity.model  # noqa: F401  (the tables)
from entity_api.db import db
from entity_migrations import VERSION_TABLE
from entity_migrations.cli import main, make_config


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_and_upgrade_again(database_url: str) -> None:
    config = make_config(database_url)
    assert "entities" not in tables(database_url)
    command.upgrade(config, "head")
    assert {"entities", VERSION_TABLE} <= tables(database_url)
    command.downgrade(config, "base")
    assert "entities" not in tables(database_url)
    command.upgrade(config, "head")
    assert "entities" in tables(database_url)
    command.downgrade(config, "base")


def test_the_models_and_the_migrations_agree(database_url: str) -> None:
    config = make_config(database_url)
    command.upgrade(config, "head")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            assert compare_metadata(context, db.metadata) == []
    finally:
        engine.dispose()
        command.downgrade(config, "base")


def test_one_head_and_its_own_version_table() -> None:
    script = ScriptDirectory.from_config(make_config("sqlite://"))
    assert script.get_heads() == ["0001"]
    assert VERSION_TABLE == "alembic_version_entity"


def test_the_cli_reads_database_url(
    database_url: str, monkeypatch: MonkeyPatch, capsys: CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    main(["upgrade", "head"])
    main(["current"])
    assert "0001 (head)" in capsys.readouterr().out
    main(["downgrade", "base"])
    assert "entities" not in tables(database_url)
