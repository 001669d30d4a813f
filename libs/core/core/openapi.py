"""OpenAPI 3.1 from the Swagger 2.0 document flask-restx makes: one source.

Every service serves both: ``/swagger`` (flask-restx's, Swagger 2.0) and
``/openapi.json``, `to_openapi` of it (the gateway converts its merged one
too). The conversion covers what the documents here hold:

- ``definitions`` become ``components/schemas``, and every ``$ref`` follows;
- a ``body`` parameter becomes the ``requestBody``, in the media types the
  operation (or the document) ``consumes``;
- other parameters keep their place, their type and constraints moved into
  a ``schema``; ``collectionFormat: csv`` becomes ``style: form`` with
  ``explode: false``, ``x-example`` becomes ``example``;
- a response's ``schema`` goes into ``content``: ``application/json`` for a
  success, ``application/problem+json`` (RFC 9457) for an error or the
  ``default``;
- ``x-nullable: true`` becomes a type that admits ``null`` (JSON Schema
  2020-12, as OpenAPI 3.1 uses it);
- the ``Bearer`` API key scheme becomes the ``http`` ``bearer`` scheme;
- ``host``, ``basePath`` and ``schemes`` become ``servers``.

A Swagger 2.0 construct it does not know (a ``formData`` parameter, say)
is an error, not a silent loss: `OpenApiError`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["OPENAPI_VERSION", "OpenApiError", "to_openapi"]

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
PROBLEM = "application/problem+json"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# What a Swagger 2.0 parameter holds that, in OpenAPI 3, is its schema's.
_SCHEMA_KEYS = (
    "type", "format", "items", "collectionFormat", "default", "maximum", "exclusiveMaximum",
    "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems",
    "minItems", "uniqueItems", "enum", "multipleOf",
)  # fmt: skip


class OpenApiError(ValueError):
    """The Swagger 2.0 document holds what this conversion does not know."""


def to_openapi(swagger: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the Swagger 2.0 document *swagger*."""
    if swagger.get("swagger") != "2.0":
        raise OpenApiError("not a Swagger 2.0 document")
    source = _refs(copy.deepcopy(dict(swagger)))
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": source["info"]}
    document["servers"] = _servers(source)
    if "tags" in source:
        document["tags"] = source["tags"]
    consumes = source.get("consumes", [JSON])
    document["paths"] = {
        path: _path_item(item, consumes) for path, item in source.get("paths", {}).items()
    }
    components: dict[str, Any] = {}
    if source.get("definitions"):
        components["schemas"] = {
            name: _schema(schema) for name, schema in source["definitions"].items()
        }
    if source.get("securityDefinitions"):
        components["securitySchemes"] = {
            name: _security_scheme(scheme) for name, scheme in source["securityDefinitions"].items()
        }
    if components:
        document["components"] = components
    if "security" in source:
        document["security"] = source["security"]
    document.update({k: v for k, v in source.items() if k.startswith("x-")})
    return document


def _refs(node: Any) -> Any:
    """*node* with every ``#/definitions/`` reference moved to ``#/components/schemas/``."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            node["$ref"] = "#/components/schemas/" + ref.removeprefix("#/definitions/")
        for value in node.values():
            _refs(value)
    elif isinstance(node, list):
        for value in node:
            _refs(value)
    return node


def _servers(source: Mapping[str, Any]) -> list[dict[str, str]]:
    base = source.get("basePath", "/")
    host = source.get("host")
    if not host:
        return [{"url": base}]
    return [{"url": f"{scheme}://{host}{base}"} for scheme in source.get("schemes", ["https"])]


def _path_item(item: Mapping[str, Any], consumes: list[str]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    shared = item.get("parameters", [])
    for key, value in item.items():
        if key == "parameters":
            continue
        if key in _METHODS:
            converted[key] = _operation(value, shared, consumes)
        elif key.startswith("x-") or key in ("summary", "description"):
            converted[key] = value
        else:
            raise OpenApiError(f"path item field {key!r}")
    plain = [p for p in shared if p.get("in") != "body"]
    if plain:
        converted["parameters"] = [_parameter(p) for p in plain]
    return converted


def _operation(
    operation: Mapping[str, Any], shared: list[Mapping[str, Any]], consumes: list[str]
) -> dict[str, Any]:
    converted = {
        k: v
        for k, v in operation.items()
        if k not in ("parameters", "responses", "consumes", "produces", "schemes")
    }
    parameters = list(operation.get("parameters", []))
    bodies = [p for p in [*shared, *parameters] if p.get("in") == "body"]
    plain = [_parameter(p) for p in parameters if p.get("in") != "body"]
    if plain:
        converted["parameters"] = plain
    if bodies:
        body = bodies[-1]
        media = operation.get("consumes", consumes)
        converted["requestBody"] = {
            "required": bool(body.get("required", False)),
            "content": {m: {"schema": _schema(body["schema"])} for m in media},
            **({"description": body["description"]} if body.get("description") else {}),
        }
    converted["responses"] = {
        status: _response(status, response)
        for status, response in operation.get("responses", {}).items()
    }
    return converted


def _parameter(parameter: Mapping[str, Any]) -> dict[str, Any]:
    where = parameter.get("in")
    if where not in ("query", "path", "header"):
        raise OpenApiError(f"parameter {parameter.get('name')!r} in {where!r}")
    schema = {k: parameter[k] for k in _SCHEMA_KEYS if k in parameter}
    converted: dict[str, Any] = {"name": parameter["name"], "in": where}
    if parameter.get("description"):
        converted["description"] = parameter["description"]
    if parameter.get("required") or where == "path":
        converted["required"] = True
    form = schema.pop("collectionFormat", None)
    if schema.get("type") == "array":
        if form not in (None, "csv", "multi"):
            raise OpenApiError(f"parameter {parameter['name']!r}: collectionFormat {form!r}")
        converted["style"], converted["explode"] = "form", form == "multi"
    converted["schema"] = _schema(schema)
    if "x-example" in parameter:
        converted["example"] = parameter["x-example"]
    converted.update(
        {k: v for k, v in parameter.items() if k.startswith("x-") and k != "x-example"}
    )
    return converted


def _response(status: str, response: Mapping[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"description": response.get("description", "")}
    if "schema" in response:
        media = JSON if status.startswith(("1", "2", "3")) else PROBLEM
        converted["content"] = {media: {"schema": _schema(response["schema"])}}
    if "headers" in response:
        converted["headers"] = {
            name: {
                **({"description": h["description"]} if h.get("description") else {}),
                "schema": _schema({k: v for k, v in h.items() if k != "description"}),
            }
            for name, h in response["headers"].items()
        }
    return converted


def _schema(schema: Any) -> Any:
    """A JSON Schema 2020-12 of a Swagger 2.0 schema: ``x-nullable`` as a
    type that admits ``null``, throughout."""
    if isinstance(schema, list):
        return [_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {
        k: (_schema(v) if k in ("items", "additionalProperties", "allOf") else v)
        for k, v in schema.items()
        if k != "x-nullable"
    }
    if "properties" in schema:
        converted["properties"] = {k: _schema(v) for k, v in schema["properties"].items()}
    if schema.get("x-nullable"):
        if "$ref" in converted:
            ref = converted.pop("$ref")
            converted["anyOf"] = [{"$ref": ref}, {"type": "null"}]
        elif isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
    return converted


def _security_scheme(scheme: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Authorization`` API key is a bearer token: OpenAPI 3 says so."""
    description = {"description": scheme["description"]} if scheme.get("description") else {}
    if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
        if str(scheme.get("name", "")).lower() == "authorization":
            return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", **description}
        return {"type": "apiKey", "in": "header", "name": scheme["name"], **description}
    if scheme.get("type") == "basic":
        return {"type": "http", "scheme": "basic", **description}
    raise OpenApiError(f"security scheme of type {scheme.get('type')!r}")
