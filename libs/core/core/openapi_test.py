from typing import Any

import pytest
from openapi_spec_validator import validate

from core.openapi import OpenApiError, to_openapi

PROBLEM = {"$ref": "#/definitions/Problem"}


def swagger(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "basePath": "/",
        "consumes": ["application/json"],
        "paths": {
            "/things/{id}": {
                "parameters": [{"in": "path", "name": "id", "type": "integer", "required": True}],
                "patch": {
                    "parameters": [
                        {"in": "body", "name": "payload", "required": True, "schema": {"$ref": "#/definitions/Thing"}},
                        {"in": "query", "name": "ids", "type": "array", "items": {"type": "integer"},
                         "collectionFormat": "csv", "maxItems": 3, "x-example": [1, 2]},
                        {"in": "header", "name": "If-Match", "type": "string"},
                    ],
                    "responses": {
                        "200": {"description": "OK", "schema": {"$ref": "#/definitions/Thing"},
                                "headers": {"ETag": {"type": "string", "description": "Its version"}}},
                        "204": {"description": "No Content"},
                        "412": {"description": "Precondition Failed", "schema": PROBLEM},
                        "default": {"description": "Error", "schema": PROBLEM},
                    },
                    "security": [{"Bearer": []}],
                },
            }
        },
        "definitions": {
            "Thing": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "x-nullable": True},
                    "kind": {"type": "string", "enum": ["a", "b"], "x-nullable": True},
                    "parent": {"$ref": "#/definitions/Thing", "x-nullable": True},
                    "tags": {"type": "array", "items": {"type": "string", "x-nullable": True}},
                },
            },
            "Problem": {"type": "object", "properties": {"status": {"type": "integer"}}},
        },
        "securityDefinitions": {
            "Bearer": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "A JWT"}
        },
    }  # fmt: skip
    document.update(extra)
    return document


def test_the_conversion_is_valid_openapi_3_1() -> None:
    converted = to_openapi(swagger())
    assert converted["openapi"] == "3.1.0"
    validate(converted)


def test_bodies_parameters_and_responses_move_where_openapi_3_puts_them() -> None:
    item = to_openapi(swagger())["paths"]["/things/{id}"]
    assert item["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]
    operation = item["patch"]
    assert operation["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
    }
    ids, if_match = operation["parameters"]
    assert ids == {
        "name": "ids", "in": "query", "style": "form", "explode": False,
        "schema": {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
        "example": [1, 2],
    }  # fmt: skip
    assert if_match == {"name": "If-Match", "in": "header", "schema": {"type": "string"}}
    responses = operation["responses"]
    assert responses["200"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
    }
    assert responses["200"]["headers"] == {
        "ETag": {"description": "Its version", "schema": {"type": "string"}}
    }
    assert responses["204"] == {"description": "No Content"}
    for status in ("412", "default"):  # errors are problem documents (RFC 9457)
        assert responses[status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    assert operation["security"] == [{"Bearer": []}]


def test_nullable_becomes_a_type_that_admits_null() -> None:
    thing = to_openapi(swagger())["components"]["schemas"]["Thing"]["properties"]
    assert thing["name"] == {"type": ["string", "null"]}
    assert thing["kind"] == {"type": ["string", "null"], "enum": ["a", "b", None]}
    assert thing["parent"] == {"anyOf": [{"$ref": "#/components/schemas/Thing"}, {"type": "null"}]}
    assert thing["tags"] == {"type": "array", "items": {"type": ["string", "null"]}}


def test_the_bearer_key_is_an_http_bearer_scheme() -> None:
    schemes = to_openapi(swagger())["components"]["securitySchemes"]
    assert schemes == {
        "Bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A JWT",
        }
    }


def test_servers_come_from_host_base_path_and_schemes() -> None:
    assert to_openapi(swagger())["servers"] == [{"url": "/"}]
    hosted = to_openapi(swagger(host="api.example.com", basePath="/v1", schemes=["https", "http"]))
    assert hosted["servers"] == [
        {"url": "https://api.example.com/v1"},
        {"url": "http://api.example.com/v1"},
    ]


def test_the_source_is_left_as_it_was() -> None:
    source = swagger()
    before = repr(source)
    to_openapi(source)
    assert repr(source) == before


def test_every_construct_converts_to_exactly_its_openapi_3_1_form() -> None:
    # The whole result, not its parts: a key dropped, renamed or added shows.
    source = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "host": "api.example.com",
        "tags": [{"name": "things"}],
        "security": [{"Basic": []}],
        "x-logo": "logo.png",
        "X-Not-Ours": 1,
        "paths": {
            "/things": {
                "summary": "Things",
                "description": "All of them",
                "x-owner": "team",
                "parameters": [
                    {"in": "body", "name": "shared", "schema": {"type": "object"}},
                    {"in": "query", "name": "q", "type": "string", "description": "A term", "required": True},
                ],
                "post": {
                    "consumes": ["application/merge-patch+json"],
                    "produces": ["application/json"],
                    "schemes": ["https"],
                    "operationId": "make",
                    "parameters": [
                        {"in": "body", "name": "payload", "description": "The thing", "schema": {"type": "object"}},
                        {"in": "query", "name": "tags", "type": "array", "items": {"type": "string"},
                         "collectionFormat": "multi", "x-order": 2, "x-example": ["a"]},
                    ],
                    "responses": {
                        "100": {"schema": {"type": "object"}},
                        "302": {"description": "Found", "schema": {"type": "object"},
                                "headers": {"Location": {"type": "string"}}},
                        "400": {"description": "Bad", "schema": {"type": "object"}},
                    },
                },
                "get": {"responses": {"200": {"description": "OK"}}},
                "delete": {},
            }
        },
        "definitions": {
            "Map": {"type": "object", "additionalProperties": {"type": "string", "x-nullable": True}},
            "Both": {"allOf": [{"type": "object", "x-nullable": True}], "x-nullable": False},
        },
        "securityDefinitions": {
            "Basic": {"type": "basic", "description": "A password"},
            "Key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        },
    }  # fmt: skip
    assert to_openapi(source) == {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "servers": [{"url": "https://api.example.com/"}],
        "tags": [{"name": "things"}],
        "security": [{"Basic": []}],
        "x-logo": "logo.png",
        "paths": {
            "/things": {
                "summary": "Things",
                "description": "All of them",
                "x-owner": "team",
                "parameters": [
                    {"name": "q", "in": "query", "description": "A term", "required": True,
                     "schema": {"type": "string"}},
                ],
                "post": {
                    "operationId": "make",
                    "parameters": [
                        {"name": "tags", "in": "query", "style": "form", "explode": True,
                         "schema": {"type": "array", "items": {"type": "string"}},
                         "example": ["a"], "x-order": 2},
                    ],
                    "requestBody": {
                        "required": False,
                        "description": "The thing",
                        "content": {"application/merge-patch+json": {"schema": {"type": "object"}}},
                    },
                    "responses": {
                        "100": {"description": "", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "302": {"description": "Found",
                                "content": {"application/json": {"schema": {"type": "object"}}},
                                "headers": {"Location": {"schema": {"type": "string"}}}},
                        "400": {"description": "Bad",
                                "content": {"application/problem+json": {"schema": {"type": "object"}}}},
                    },
                },
                # A body declared for the path is every operation's (Swagger 2.0).
                "get": {
                    "requestBody": {
                        "required": False,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": {"200": {"description": "OK"}},
                },
                "delete": {
                    "requestBody": {
                        "required": False,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": {},
                },
            }
        },
        "components": {
            "schemas": {
                "Map": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
                "Both": {"allOf": [{"type": ["object", "null"]}]},
            },
            "securitySchemes": {
                "Basic": {"type": "http", "scheme": "basic", "description": "A password"},
                "Key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            },
        },
    }  # fmt: skip


def test_a_bare_document_gets_the_defaults() -> None:
    bare = {"swagger": "2.0", "info": {"title": "T", "version": "1"}}
    assert to_openapi(bare) == {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "servers": [{"url": "/"}],
        "paths": {},
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(swagger="3.0"), "not a Swagger 2.0 document"),
        (
            lambda d: d["paths"]["/things/{id}"]["patch"]["parameters"].append(
                {"in": "formData", "name": "f", "type": "string"}
            ),
            "parameter 'f' in 'formData'",
        ),
        (
            lambda d: d["paths"]["/things/{id}"]["patch"]["parameters"].append(
                {
                    "in": "query",
                    "name": "p",
                    "type": "array",
                    "items": {},
                    "collectionFormat": "tsv",
                }
            ),
            "parameter 'p': collectionFormat 'tsv'",
        ),
        (
            lambda d: d["securityDefinitions"].update(
                k={"type": "apiKey", "in": "query", "name": "k"}
            ),
            "security scheme of type 'apiKey'",
        ),
        (
            lambda d: d["securityDefinitions"].update(o={"type": "oauth2", "flow": "implicit"}),
            "security scheme of type 'oauth2'",
        ),
        (lambda d: d["paths"]["/things/{id}"].update({"$ref": "#/x"}), "path item field '$ref'"),
    ],
    ids=["not-2.0", "form-data", "tsv", "query-key", "oauth2", "path-item-ref"],
)
def test_what_it_does_not_know_is_named_in_its_error(change: Any, message: str) -> None:
    document = swagger()
    change(document)
    with pytest.raises(OpenApiError) as raised:
        to_openapi(document)
    assert str(raised.value) == message
