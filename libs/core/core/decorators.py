"""Request and response decorators driven by `BaseInterfaces` shapes.

They play the role `flask-accepts` played in the seed: each validates one part
of the exchange with the shape's marshmallow schema and documents it in the
swagger JSON with the shape's model, so what is checked and what is documented
cannot drift apart. Each takes a resource's interfaces, or one of their
shapes, first (`document_errors`, `core.auth.requires` and
`core.query.accepts_list_query` too).

- `accepts(shape)`: the JSON body, passed to the view as ``body`` (a dict of
  snake_case keys). Not JSON -> 415; malformed JSON -> 400; fails the
  schema -> 422 with one ``{"pointer", "detail"}`` per problem.
- `accepts_query(shape)`: the query string, passed as ``query``. Unknown,
  repeated or invalid parameters -> 400 naming the parameter.
- `responds(shape, status)`: dumps what the view returns (a value, or the
  value of an `ApiResponse`) with the shape's schema and documents the status.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar, cast

import orjson
from flask import request
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from .api import problem_model
from .body import read_wsgi_body
from .errors import (
    BadRequest,
    FieldError,
    UnprocessableEntity,
    UnsupportedMediaType,
    parameter_error,
)
from .interfaces import BaseInterfaces, Shape, camel_case, namespace_of, query_param
from .response import ApiResponse, Page

__all__ = [
    "accepts",
    "accepts_query",
    "document_errors",
    "query_arguments",
    "read_body",
    "responds",
]

F = TypeVar("F", bound=Callable[..., Any])


def document_errors(target: BaseInterfaces | Shape, *codes: int) -> Callable[[F], F]:
    """Document that an operation may answer with problem documents *codes*."""
    api = namespace_of(target)
    model = problem_model(api)

    def decorate(func: F) -> F:
        for code in codes:
            func = api.response(code, HTTPStatus(code).phrase, model)(func)
        return func

    return decorate


def _pointer(path: list[str | int]) -> str:
    """RFC 6901 JSON pointer."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def field_errors(messages: Any, path: list[str | int] | None = None) -> list[FieldError]:
    """Flatten marshmallow's nested error messages into pointer/detail pairs."""
    path = path or []
    if isinstance(messages, Mapping):
        out: list[FieldError] = []
        for key, value in messages.items():
            out += field_errors(value, path if key == "_schema" else [*path, key])
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"pointer": _pointer(path), "detail": m} for m in messages]
    if isinstance(messages, list):
        return [e for m in messages for e in field_errors(m, path)]
    return [{"pointer": _pointer(path), "detail": str(messages)}]


def read_body() -> bytes:
    """The request body, bounded by ``MAX_CONTENT_LENGTH`` (see `read_wsgi_body`)."""
    return read_wsgi_body(request.environ, request.max_content_length)


def load_body(shape: Shape) -> dict[str, Any]:
    """Parse and validate the request's JSON body with *shape*'s schema."""
    if not request.is_json:
        raise UnsupportedMediaType(
            "The request body must be JSON (Content-Type: application/json)."
        )
    try:
        data = orjson.loads(read_body())
    except orjson.JSONDecodeError:
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise UnprocessableEntity(
            "The request body must be a JSON object.",
            errors=[{"pointer": "", "detail": "Expected a JSON object."}],
        )
    try:
        loaded: dict[str, Any] = shape.schema.load(data)
    except ValidationError as err:
        raise UnprocessableEntity(
            "The request body failed validation.", errors=field_errors(err.messages)
        ) from None
    return loaded


def query_arguments(args: MultiDict[str, str]) -> dict[str, str]:
    """Each query parameter's one value; 400 for a repeated one or a NUL."""
    single: dict[str, str] = {}
    for name in args:
        values = args.getlist(name)
        if len(values) > 1:
            raise parameter_error(name, "Given more than once.")
        if "\x00" in values[0]:
            raise parameter_error(name, "Contains a NUL character.")
        single[name] = values[0]
    return single


def load_query(shape: Shape) -> dict[str, Any]:
    """Parse and validate the query string with *shape*'s schema."""
    known = {f.data_key or name for name, f in shape.schema.fields.items()}
    args = query_arguments(request.args)
    for name in args:
        if name not in known:
            raise parameter_error(name, "Unknown parameter.")
    try:
        loaded: dict[str, Any] = shape.schema.load(args)
    except ValidationError as err:
        messages = cast(dict[str, list[str]], err.messages)
        name, details = next(iter(messages.items()))
        raise parameter_error(name, " ".join(details)) from None
    return loaded


def accepts(shape: Shape) -> Callable[[F], F]:
    """Validate the JSON body with *shape* and pass it to the view as ``body``."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, body=load_body(shape), **kwargs)

        documented = shape.namespace.expect(shape.model, validate=False)(wrapper)
        return document_errors(shape, 400, 413, 415, 422)(cast(F, documented))

    return decorate


def accepts_query(shape: Shape) -> Callable[[F], F]:
    """Validate the query string with *shape* and pass it to the view as ``query``."""
    params = {
        camel_case(name): query_param(declared.field, declared.description)
        for name, declared in shape.interfaces.fields.items()
        if name in shape.schema.fields
    }

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, query=load_query(shape), **kwargs)

        documented = shape.namespace.doc(params=params)(wrapper)
        return document_errors(shape, 400)(cast(F, documented))

    return decorate


def responds(shape: Shape, status: int = 200, description: str | None = None) -> Callable[[F], F]:
    """Dump the view's result with *shape* and document it under *status*."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> ApiResponse:
            result = func(*args, **kwargs)
            response = result if isinstance(result, ApiResponse) else ApiResponse(result, status)
            value = response.value
            if isinstance(value, Page):
                response.value = dataclasses.replace(value, items=shape.dump(value.items))
            elif value is not None:
                response.value = shape.dump(value)
            return response

        return cast(
            F,
            shape.namespace.response(status, description or HTTPStatus(status).phrase, shape.model)(
                wrapper
            ),
        )

    return decorate
