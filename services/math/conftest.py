import pytest

from math_api import create_app


@pytest.fixture
def app_factory():  # type: ignore[no-untyped-def]
    return create_app
