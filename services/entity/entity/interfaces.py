"""Entity on the wire: one declaration per field, for validation, docs and lists."""

from marshmallow import validate

from core import Field
from core.crud import CrudInterfaces
from core.fields import String


class EntityInterfaces(CrudInterfaces):
    """`CrudInterfaces` adds ``id``, ``ownerId``, ``createdAt`` and ``updatedAt``."""

    name = Field(
        String(required=True, validate=validate.Length(1, 255)),
        "Name of the entity",
        example="My entity",
        sortable=True,
        filterable=True,
        searchable=True,
    )
    purpose = Field(
        String(allow_none=True, validate=validate.Length(max=255)),
        "What the entity is for",
        example="Example",
        sortable=True,
        filterable=True,
        searchable=True,
    )
    create_model_keys = ["name", "purpose"]
    update_model_keys = ["name", "purpose"]
