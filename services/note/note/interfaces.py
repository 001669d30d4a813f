"""Note on the wire: one declaration per field, for validation, docs and lists."""

from marshmallow import validate

from core import Field
from core.crud import CrudInterfaces
from core.fields import Integer, String


class NoteInterfaces(CrudInterfaces):
    """`CrudInterfaces` adds ``id``, ``ownerId``, ``createdAt`` and ``updatedAt``."""

    entity_id = Field(
        Integer(required=True, validate=validate.Range(1, 2147483647)),
        "The entity the note is about (it must exist, for its author)",
        example=1,
        sortable=True,
        filterable=True,
    )
    body = Field(
        String(required=True, validate=validate.Length(1, 2000)),
        "The note's text",
        example="Checked the fuse box.",
        sortable=True,
        filterable=True,
        searchable=True,
    )
    create_model_keys = ["entity_id", "body"]
    update_model_keys = ["entity_id", "body"]
