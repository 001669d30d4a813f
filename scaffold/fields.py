"""The fields of a new resource, from the command line: ``name:type[:option...]``.

Types: ``string`` (options: a maximum length, default 255) and ``integer``
(32-bit, as its column). Options: ``required`` (else it may be empty) and,
for strings, ``search`` (the ``search`` parameter looks in it). Every field
is sortable and filterable; its wire name is camelCase (``entity_id`` travels
as ``entityId``). Examples::

    name:string:255:required:search
    entity_id:integer:required
    body:string:2000:required:search
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

__all__ = ["DEFAULT_FIELDS", "FieldSpec", "parse_field"]

INT32 = (-(2**31), 2**31 - 1)
INDEXED_LENGTH = 600
"""The longest string a field's B-tree index may hold: PostgreSQL refuses an
index entry over 2,704 bytes, and a character is up to 4 bytes of UTF-8, so a
longer field is left unindexed (sorting by it then sorts the matches)."""
RESERVED = {"id", "owner_id", "created_at", "updated_at", "version"}
"""`core.crud.CrudColumns` has these already."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # "string" or "integer"
    required: bool = False
    searchable: bool = False
    max_length: int = 255

    @property
    def wire(self) -> str:
        head, *rest = self.name.split("_")
        return head + "".join(part.title() for part in rest)

    @property
    def indexed(self) -> bool:
        """Whether the field gets a B-tree index (see `INDEXED_LENGTH`)."""
        return self.type != "string" or self.max_length <= INDEXED_LENGTH

    @property
    def words(self) -> str:
        return self.name.replace("_", " ")

    @property
    def example(self) -> str | int:
        return f"Example {self.words}" if self.type == "string" else 1


def parse_field(spec: str) -> FieldSpec:
    """Parse ``name:type[:option...]``; `ValueError` says what is wrong."""
    name, _, rest = spec.partition(":")
    if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name) or keyword.iskeyword(name):
        raise ValueError(f"{spec!r}: a field is named in snake_case, like entity_id")
    if name in RESERVED:
        raise ValueError(f"{spec!r}: every resource has {name} already")
    type_, *options = rest.split(":") if rest else ["string"]
    if type_ not in ("string", "integer"):
        raise ValueError(f"{spec!r}: the type is string or integer, not {type_!r}")
    required = searchable = False
    max_length = 255
    for option in options:
        if option == "required":
            required = True
        elif option == "search" and type_ == "string":
            searchable = True
        elif option.isdigit() and type_ == "string" and 0 < int(option) <= 10_000:
            max_length = int(option)
        else:
            raise ValueError(f"{spec!r}: unknown option {option!r} for a {type_}")
    return FieldSpec(name, type_, required, searchable, max_length)


DEFAULT_FIELDS = (parse_field("name:string:255:required:search"),)
