import pytest
from flask import Flask
from flask.testing import FlaskClient

from entity_api import create_app

OWNER = "owner-1"


@pytest.fixture
def app_factory():  # type: ignore[no-untyped-def]
    return create_app


@pytest.fixture
def client(app: Flask, auth_headers) -> FlaskClient:  # type: ignore[no-untyped-def]
    """A client that reads and writes as OWNER (tests of auth itself make their own)."""
    client = app.test_client()
    token = auth_headers(OWNER, "entity:read entity:write")["Authorization"]
    client.environ_base["HTTP_AUTHORIZATION"] = token
    return client
