"""Every migration line of the registry on an empty database: up, down, up
again; it matches its models; one head; its own version table; its CLI."""

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pytest import CaptureFixture, MonkeyPatch

import migrate
from core.migrations import MigrationLine

LINES = migrate.lines()


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def own_tables(line: MigrationLine) -> set[str]:
    return set(line.metadata.tables)


def test_every_service_with_a_database_has_a_line() -> None:
    from core.registry import read
    from deployables import deployables

    with_database = [d.name for d in read(deployables()).values() if d.database]
    assert [line.name for line in LINES] == with_database
    assert with_database  # the registry has at least one


@pytest.fixture(params=LINES, ids=lambda line: line.name)
def line(request: pytest.FixtureRequest) -> MigrationLine:
    found: MigrationLine = request.param
    return found


def test_upgrade_downgrade_and_upgrade_again(line: MigrationLine, database_url: str) -> None:
    config = line.make_config(database_url)
    assert not own_tables(line) & tables(database_url)
    command.upgrade(config, "head")
    assert own_tables(line) | {line.version_table} <= tables(database_url)
    command.downgrade(config, "base")
    assert not own_tables(line) & tables(database_url)
    command.upgrade(config, "head")
    assert own_tables(line) <= tables(database_url)
    command.downgrade(config, "base")


def test_the_models_and_the_migrations_agree(line: MigrationLine, database_url: str) -> None:
    config = line.make_config(database_url)
    command.upgrade(config, "head")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "version_table": line.version_table,
                    # The other lines' tables are theirs to compare.
                    "include_name": lambda name, kind, _: kind != "table"
                    or name in own_tables(line),
                },
            )
            assert compare_metadata(context, line.metadata) == []
    finally:
        engine.dispose()
        command.downgrade(config, "base")


def test_one_head_and_its_own_version_table(line: MigrationLine) -> None:
    script = ScriptDirectory.from_config(line.make_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert line.version_table == f"alembic_version_{line.name}"


def test_the_cli_reads_database_url(
    line: MigrationLine, database_url: str, monkeypatch: MonkeyPatch, capsys: CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    head = ScriptDirectory.from_config(line.make_config()).get_current_head()
    line.main(["upgrade", "head"])
    line.main(["current"])
    assert f"{head} (head)" in capsys.readouterr().out
    line.main(["downgrade", "base"])
    assert not own_tables(line) & tables(database_url)
