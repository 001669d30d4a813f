import pytest

from gateway_api.app import create_app


@pytest.fixture
def app_factory():  # type: ignore[no-untyped-def]
    return create_app
