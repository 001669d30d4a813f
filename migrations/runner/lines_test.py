"""Every migration line of the registry on an empty database: up, down, up
again; it matches its models; one head; its own version table; its CLI."""

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from pytest import CaptureFixture, MonkeyPatch

import migrate
from core.folding import FOLDS, trigram_index_name
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
            assert line.differences(connection) == []
    finally:
        engine.dispose()
        command.downgrade(config, "base")


def test_every_folded_column_has_its_trigram_index_on_postgresql(
    line: MigrationLine, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("trigram indexes are PostgreSQL's (DATABASE_URL names SQLite)")
    config = line.make_config(database_url)
    command.upgrade(config, "head")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            found = {
                (row.tablename, row.indexname): row.indexdef
                for row in connection.execute(
                    sa.text(
                        "SELECT tablename, indexname, indexdef FROM pg_indexes"
                        " WHERE schemaname = current_schema()"
                    )
                )
            }
        expected = {
            (table.name, trigram_index_name(table.name, column.info[FOLDS])): column.name
            for table in line.metadata.tables.values()
            for column in table.columns
            if FOLDS in column.info
        }
        assert expected  # every line here folds some text
        for key, column in expected.items():
            assert key in found, f"{key[1]} is missing"
            assert f"USING gin ({column} " in found[key] and "gin_trgm_ops" in found[key]
        command.downgrade(config, "base")
        with engine.connect() as connection:
            left = connection.scalars(
                sa.text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
            ).all()
        assert not {name for _, name in expected} & set(left)
    finally:
        engine.dispose()


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
