"""Entity on the wire: one declaration per field, for validation, docs and lists."""

from marshmallow import fields, validate

from core import BaseInterfaces, Field
from core.fields import String, UtcDateTime


class EntityInterfaces(BaseInterfaces):
    id = Field(
        fields.Integer(dump_only=True),
        "Unique identifier",
        example=123,
        sortable=True,
        filterable=True,
    )
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
    owner_id = Field(
        String(dump_only=True, allow_none=True),
        "Subject of the token that created the entity",
        example="user-42",
        filterable=True,
    )
    created_at = Field(
        UtcDateTime(dump_only=True),
        "Creation time (UTC)",
        example="2026-01-01T12:00:00Z",
        sortable=True,
        filterable=True,
    )
    updated_at = Field(
        UtcDateTime(dump_only=True),
        "Last change (UTC)",
        example="2026-01-01T12:00:00Z",
        sortable=True,
        filterable=True,
    )
    create_model_keys = ["name", "purpose"]
    update_model_keys = ["name", "purpose"]
