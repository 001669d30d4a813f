"""The parts of the templates that depend on the fields (`scaffold.fields`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .fields import INT32, FieldSpec

__all__ = ["crud_names", "interfaces_fields", "model_columns", "revision_columns"]


def model_columns(fields: Sequence[FieldSpec]) -> str:
    lines = []
    for f in fields:
        python = {"string": "str", "integer": "int"}[f.type]
        column = f"sa.String({f.max_length})" if f.type == "string" else "sa.Integer()"
        optional = "" if f.required else " | None"
        index = ", index=True" if f.indexed else ""
        lines.append(f"    {f.name}: Mapped[{python}{optional}] = mapped_column({column}{index})")
    for f in fields:
        if f.type == "string":  # filterable with contains: its fold (core.folding)
            optional = "" if f.required else " | None"
            lines.append(f'    {f.name}_folded: Mapped[str{optional}] = folded("{f.name}")')
    return "\n".join(lines)


def crud_names(fields: Sequence[FieldSpec]) -> str:
    """What the model imports from `core.crud`."""
    return "CrudColumns, folded" if any(f.type == "string" for f in fields) else "CrudColumns"


def _validator(f: FieldSpec) -> str:
    if f.type == "integer":
        # The column is 32-bit: a larger number is refused here, never by the database.
        return f"validate.Range({INT32[0]}, {INT32[1]})"
    return f"validate.Length({1 if f.required else 0}, {f.max_length})"


def interfaces_fields(fields: Sequence[FieldSpec]) -> str:
    blocks = []
    for f in fields:
        kind = "String" if f.type == "string" else "Integer"
        given = "required=True" if f.required else "allow_none=True"
        search = "\n        searchable=True," if f.searchable else ""
        blocks.append(
            f"    {f.name} = Field(\n"
            f"        {kind}({given}, validate={_validator(f)}),\n"
            f'        "The {f.words}",\n'
            f"        example={json.dumps(f.example)},\n"
            f"        sortable=True,\n"
            f"        filterable=True,{search}\n"
            f"    )"
        )
    return "\n".join(blocks)


def revision_columns(fields: Sequence[FieldSpec]) -> str:
    lines = []
    for f in fields:
        column = f"sa.String({f.max_length})" if f.type == "string" else "sa.Integer()"
        lines.append(f'        sa.Column("{f.name}", {column}, nullable={not f.required}),')
    for f in fields:
        if f.type == "string":
            lines.append(
                f'        sa.Column("{f.name}_folded", sa.Text(), nullable={not f.required}),'
            )
    return "\n".join(lines)
