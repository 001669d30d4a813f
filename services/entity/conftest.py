import pytest

from entity_api import create_app


@pytest.fixture
def app_factory():  # type: ignore[no-untyped-def]
    return create_app


@pytest.fixture
def client_scopes() -> str:
    return "entity:read entity:write"
