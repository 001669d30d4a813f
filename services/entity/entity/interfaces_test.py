import pytest
from marshmallow import ValidationError

from core.query import ListQuerySpec

from .interfaces import EntityInterfaces


def test_wire_names_are_camel_case() -> None:
    dumped = EntityInterfaces.schema.dump({"id": 1, "name": "n", "purpose": None, "owner_id": "u"})
    assert dumped == {"id": 1, "name": "n", "purpose": None, "ownerId": "u"}


def test_create_takes_name_and_purpose_only() -> None:
    assert EntityInterfaces.create_schema.load({"name": "n"}) == {"name": "n"}
    with pytest.raises(ValidationError) as info:
        EntityInterfaces.create_schema.load({"name": "n", "ownerId": "me", "updatedAt": "x"})
    assert set(info.value.messages) == {"ownerId", "updatedAt"}


def test_list_capabilities_follow_the_design() -> None:
    spec = ListQuerySpec(EntityInterfaces)
    assert spec.sortable == {"id", "name", "purpose", "createdAt", "updatedAt"}
    assert set(spec.operators) == {"id", "name", "purpose", "ownerId", "createdAt", "updatedAt"}
    assert spec.operators["name"] == ("eq", "ne", "in", "contains")
    assert spec.operators["createdAt"] == ("eq", "ne", "lt", "lte", "gt", "gte", "in")
    assert spec.searchable == ("name", "purpose")
