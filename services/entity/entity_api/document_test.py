from pathlib import Path

from flask.testing import FlaskClient

from core.testing import assert_document, assert_openapi


def test_the_published_document_is_the_committed_one(client: FlaskClient) -> None:
    assert_document(client, Path(__file__).with_name("swagger.json"))


def test_both_documents_are_valid_and_name_every_route(client: FlaskClient) -> None:
    assert_openapi(client)
