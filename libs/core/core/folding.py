"""One text folding for ``search`` and ``contains``, the same on every database.

Case is folded once, in Python, with `fold` (Unicode full case folding,
``str.casefold``): ``Straße``, ``STRASSE`` and ``strasse`` fold alike, and so
do ``ΟΔΟΣ`` and ``οδος`` (final sigma), and ``İzmir`` and ``İZMİR``. Nothing
else is folded: the match is case-insensitive, not accent-insensitive
(``é`` is not ``e``), and the text is not normalized (a decomposed ``é`` is
not a precomposed one). Case folding maps each code point on its own, so the
fold of any substring of a text is a substring of the text's fold: a row is
found by any part of its own text. (Normalization would break that; so does
the databases' own ``lower()``, which differs between SQLite and PostgreSQL.)

A model stores the fold of each text it searches, or filters with
``contains``, in a shadow column declared with `folded` (``name_folded``
beside ``name``; never on the wire). An INSERT through SQLAlchemy fills it
from the source column; `core.crud.CrudService` keeps it on every change;
`core.crud.check_model` refuses a model that lacks one. Lists compare
``<field>_folded LIKE '%' || fold(term) || '%'`` (`contains_folded`), a
plain LIKE on both databases, with ``%``, ``_`` and ``\\`` literal.

`add_folded_columns` and `drop_folded_columns` are for migrations: they add
the columns to an existing table and fill them with the same `fold`.
`create_trigram_indexes` gives the folded columns, on PostgreSQL, the index
that serves those LIKEs: a GIN index of trigrams (``pg_trgm``), which finds
the rows holding a term of three characters or more without reading the
others. (A shorter term has no trigram to look up: it reads every row.)
SQLite has no such index; its lists read every row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import MappedColumn, mapped_column

__all__ = [
    "FOLDS",
    "add_folded_columns",
    "contains_folded",
    "create_trigram_indexes",
    "drop_folded_columns",
    "drop_trigram_indexes",
    "fold",
    "fold_value",
    "folded",
    "folded_name",
    "folded_sources",
    "TRIGRAM_INDEX_SUFFIX",
    "trigram_index_name",
]

FOLDS = "folds"
"""The ``info`` key of a folded column: the name of the column it folds."""
BACKFILL_BATCH = 1000
"""Rows a migration folds per statement."""
TRIGRAM_INDEX_SUFFIX = "_trgm"
"""How the name of a trigram index ends (`trigram_index_name`)."""
TRIGRAMS_SCHEMA = "public"
"""Where ``pg_trgm`` is created when a database lacks it: a schema every
search path finds, and that no test's scratch schema takes along when dropped."""


def fold(text: str) -> str:
    """*text* as ``search`` and ``contains`` compare it (see the module docstring)."""
    return text.casefold()


def fold_value(value: str | None) -> str | None:
    """What a folded column holds for a source *value*: its `fold`, or empty when it is."""
    return None if value is None else fold(value)


def folded_name(source: str) -> str:
    """The name of the column that holds the fold of *source*: ``<source>_folded``."""
    return f"{source}_folded"


def _fold_of(source: str) -> Callable[[DefaultExecutionContext], str | None]:
    def default(context: DefaultExecutionContext) -> str | None:
        # The statement's values for this row (each row of an executemany).
        given = context.get_current_parameters()  # type: ignore[no-untyped-call]
        return fold_value(given.get(source))

    return default


def folded(source: str) -> MappedColumn[Any]:
    """The shadow column of *source*: ``name_folded: Mapped[str] = folded("name")``.

    Text, whatever the source's length (a fold may be up to three times
    longer: ``ß`` is ``ss``), NOT NULL where the source is (the annotation
    says which; `core.crud.check_model` checks they agree), no index of its
    own (a trigram index serves LIKE; a B-tree does not). Every INSERT fills
    it from the source's value.
    """
    return mapped_column(sa.Text(), default=_fold_of(source), info={FOLDS: source})


def folded_sources(table: sa.Table) -> dict[str, str]:
    """The folded columns of *table*: the name of each by the name of the column it folds."""
    return {column.info[FOLDS]: column.name for column in table.columns if FOLDS in column.info}


def contains_folded(column: Any, term: str) -> sa.ColumnElement[bool]:
    """A folded *column* holds the fold of *term*, literally (``%`` and ``_`` are themselves)."""
    return column.contains(fold(term), autoescape=True)  # type: ignore[no-any-return]


# -- migrations ------------------------------------------------------------------


def add_folded_columns(table: str, sources: Mapping[str, bool]) -> None:
    """In a migration: add the folded column of each of *sources* to *table*,
    fill it for every row (batched, with `fold`), then make it NOT NULL where
    the source is (*sources* maps each source column to whether it is nullable)."""
    from alembic import op

    for source in sources:
        op.add_column(table, sa.Column(folded_name(source), sa.Text(), nullable=True))
    _fill(op.get_bind(), table, list(sources))
    required = [source for source, nullable in sources.items() if not nullable]
    if required:
        with _altered(table) as batch:
            for source in required:
                batch.alter_column(folded_name(source), existing_type=sa.Text(), nullable=False)


def trigram_index_name(table: str, source: str) -> str:
    """The name of the trigram index of *source*'s folded column: ``ix_<table>_<source>_trgm``."""
    return f"ix_{table}_{source}{TRIGRAM_INDEX_SUFFIX}"


def create_trigram_indexes(table: str, sources: Sequence[str]) -> None:
    """In a migration, on PostgreSQL: a GIN trigram index on the folded column
    of each of *sources* (`trigram_index_name`), which serves ``contains``
    and ``search`` (`contains_folded`); ``pg_trgm`` is created first where the
    database lacks it. Nothing on SQLite.

    A plain ``CREATE INDEX``: writes to *table* wait while it is built (about
    10 s per column per million rows here)."""
    from alembic import op

    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    schema = _trigram_schema(connection)
    for source in sources:
        op.execute(
            f'CREATE INDEX "{trigram_index_name(table, source)}" ON "{table}" '
            f'USING gin ("{folded_name(source)}" "{schema}".gin_trgm_ops)'
        )


def drop_trigram_indexes(table: str, sources: Sequence[str]) -> None:
    """In a migration, on PostgreSQL: drop what `create_trigram_indexes` made
    (``pg_trgm`` stays: other tables may use it)."""
    from alembic import op

    if op.get_bind().dialect.name != "postgresql":
        return
    for source in sources:
        op.drop_index(trigram_index_name(table, source), table_name=table)


def _trigram_schema(connection: sa.Connection) -> str:
    """The schema of ``pg_trgm``, created in `TRIGRAMS_SCHEMA` if it is missing.

    Migrations of several databases (or of tests' schemas) may run at once: a
    transaction-wide advisory lock makes one create it while the others wait,
    then find it."""
    found = sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'pg_trgm'"
    )
    schema = connection.scalar(found)
    if schema is None:
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext('core.folding pg_trgm'))")
        )
        create = f'CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA "{TRIGRAMS_SCHEMA}"'
        connection.execute(sa.text(create))
        schema = connection.scalar(found)
    return str(schema)


def drop_folded_columns(table: str, sources: Sequence[str]) -> None:
    """In a migration: drop the folded columns of *sources* from *table*."""
    with _altered(table) as batch:
        for source in sources:
            batch.drop_column(folded_name(source))


def _fill(connection: sa.Connection, name: str, sources: Sequence[str]) -> None:
    table = sa.table(
        name, sa.column("id"), *(sa.column(c) for s in sources for c in (s, folded_name(s)))
    )
    read = (
        sa.select(table.c.id, *(table.c[s] for s in sources))
        .where(table.c.id > sa.bindparam("after"))
        .order_by(table.c.id)
        .limit(BACKFILL_BATCH)
    )
    write = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values({folded_name(s): sa.bindparam(f"fold_{s}") for s in sources})
    )
    after = 0
    while rows := connection.execute(read, {"after": after}).all():
        folds = [
            {f"fold_{s}": fold_value(value) for s, value in zip(sources, values, strict=True)}
            for _, *values in rows
        ]
        connection.execute(
            write, [{"row_id": row.id, **f} for row, f in zip(rows, folds, strict=True)]
        )
        after = rows[-1].id


@contextlib.contextmanager
def _altered(table: str) -> Iterator[Any]:
    """alembic's batch mode, which on SQLite copies the table: the copy keeps
    AUTOINCREMENT and the table's last id (`core.crud.CrudColumns`: ids are
    never reused), which a plain copy would lose."""
    from alembic import op

    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    last = None
    if sqlite:
        last = connection.scalar(
            sa.text("SELECT seq FROM sqlite_sequence WHERE name = :name"), {"name": table}
        )
    with op.batch_alter_table(table, table_kwargs={"sqlite_autoincrement": sqlite}) as batch:
        yield batch
    if last is not None:
        kept = {"seq": last, "name": table}
        connection.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :name"), kept)
        connection.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)"), kept
        )
