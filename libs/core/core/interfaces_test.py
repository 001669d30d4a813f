import pytest
from flask_restx import Namespace
from marshmallow import ValidationError, fields

from core import BaseInterfaces, Field
from core.conftest import NoteInterfaces, notes
from core.interfaces import camel_case


def test_camel_case() -> None:
    assert camel_case("owner_id") == "ownerId"
    assert camel_case("id") == "id"
    assert camel_case("created_at_utc") == "createdAtUtc"


def test_model_name_defaults_to_class_name_less_interfaces() -> None:
    assert NoteInterfaces.model_name == "Note"


def test_schema_loads_camel_case_into_snake_case() -> None:
    loaded = NoteInterfaces.create_schema.load({"title": "a", "bodyText": "b"})
    assert loaded == {"title": "a", "body_text": "b", "tags": []}


def test_schema_dumps_snake_case_as_camel_case() -> None:
    dumped = NoteInterfaces.schema.dump({"id": 1, "title": "a", "body_text": None, "tags": []})
    assert dumped == {"id": 1, "title": "a", "bodyText": None, "tags": []}


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"title": "a", "colour": "red"}, "colour"),  # unknown
        ({"title": "a", "id": 3}, "id"),  # dump-only
        ({"title": "a", "body_text": "x"}, "body_text"),  # snake_case is not the wire name
        ({}, "title"),  # required
        ({"title": ""}, "title"),  # too short
        ({"title": 5}, "title"),  # wrong type
    ],
)
def test_create_schema_rejects(body: dict[str, object], key: str) -> None:
    with pytest.raises(ValidationError) as info:
        NoteInterfaces.create_schema.load(body)
    assert key in info.value.messages


def test_update_schema_only_takes_update_keys() -> None:
    with pytest.raises(ValidationError) as info:
        NoteInterfaces.update_schema.load({"title": "a", "bodyText": "b", "tags": ["x"]})
    assert list(info.value.messages) == ["tags"]


def test_patch_schema_is_partial() -> None:
    assert NoteInterfaces.patch_schema.load({"bodyText": "b"}, partial=True) == {"body_text": "b"}


def test_the_declaration_is_left_as_written() -> None:
    assert NoteInterfaces.fields["body_text"].field.data_key is None


def test_model_keys_must_name_declared_fields() -> None:
    with pytest.raises(TypeError, match="nope"):

        class BadInterfaces(BaseInterfaces):
            a = Field(fields.String())
            create_model_keys = ["a", "nope"]


def test_models_document_the_fields() -> None:
    model = notes.model.__schema__
    props = model["properties"]
    assert set(props) == {"id", "title", "bodyText", "tags", "createdAt"}
    assert props["id"]["readOnly"] is True
    assert props["title"] == {
        "type": "string",
        "description": "Title",
        "example": "Hi",
        "minLength": 1,
        "maxLength": 40,
    }
    assert props["bodyText"]["x-nullable"] is True
    assert props["tags"]["type"] == "array" and props["tags"]["items"]["type"] == "string"
    assert props["createdAt"]["format"] == "date-time"
    assert model["required"] == ["title"]
    assert set(notes.create_model.__schema__["properties"]) == {"title", "bodyText", "tags"}
    assert set(notes.update_model.__schema__["properties"]) == {"title", "bodyText"}
    assert "required" not in notes.patch_model.__schema__


def test_response_models_wrap_the_envelope() -> None:
    single = notes.single_response_model.__schema__
    assert single["properties"]["data"] == {"$ref": "#/definitions/Note"}
    many = notes.many_response_model.__schema__
    assert many["properties"]["data"]["items"] == {"$ref": "#/definitions/Note"}
    assert set(many["required"]) == {"data", "meta", "links"}


def test_models_register_on_the_namespace() -> None:
    ns = Namespace("Other")
    NoteInterfaces(ns)
    assert {
        "Note",
        "NoteCreate",
        "NoteUpdate",
        "NotePatch",
        "NoteResponse",
        "NoteListResponse",
    } <= set(ns.models)


def test_the_compiled_dumper_matches_marshmallow() -> None:
    import datetime as dt

    from core.conftest import Note

    samples = [
        {
            "id": 1,
            "title": "a",
            "body_text": None,
            "tags": ["x", "y"],
            "created_at": dt.datetime(2026, 1, 2, 3, 4, 5),
        },
        Note(id=2, title="b", body_text="t", created_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC)),
        {"id": 3, "title": "c"},  # missing keys are absent from both
    ]
    for sample in samples:
        assert NoteInterfaces.dump_one(sample) == NoteInterfaces.schema.dump(sample)
    assert notes.many.dump(samples[:2]) == NoteInterfaces.many_schema.dump(samples[:2])
