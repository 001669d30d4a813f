"""`ApiFlask`: the flask-restx ``Api`` that speaks the project's HTTP contract.

- Views return `ApiResponse`; `make_response` builds the envelope through it.
- Every error raised under the API, ours or werkzeug's, goes to
  `problem_response`.
- The swagger document lists the `Problem` model and gives every operation
  a ``default`` problem response, so each error a client can meet is documented.
- Beside the Swagger 2.0 document at ``/swagger``, its OpenAPI 3.1 version
  (`core.openapi`) at ``/openapi.json``.
- The docs UI at ``/`` is Swagger UI 5 over both (`core.docs`), in place of
  flask-restx's own, which cannot render OpenAPI 3.1.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import orjson
from flask import Response
from flask_restx import Api, Namespace
from flask_restx import fields as rx
from flask_restx.model import Model

from .docs import DOCUMENTS, add_docs_ui
from .errors import PROBLEM_MIMETYPE, problem_response
from .openapi import to_openapi
from .response import JSON_MIMETYPE, ApiResponse

__all__ = ["ApiFlask", "problem_model"]

_PROBLEM_FIELDS = {
    "type": rx.String(required=True, example="about:blank"),
    "title": rx.String(required=True, example="Not Found"),
    "status": rx.Integer(required=True, example=404),
    "detail": rx.String(required=True, example="The requested URL was not found on the server."),
    "instance": rx.String(example="/api/entities/7"),
    "requestId": rx.String(example="3f2b9c1e4d5a4b6c8e7f9a0b1c2d3e4f"),
    "errors": rx.List(
        rx.Raw(example={"pointer": "/name", "detail": "Missing data for required field."}),
        description="One entry per invalid field (pointer) or query parameter (parameter).",
    ),
}


def problem_model(api: Api | Namespace) -> Model:
    """The RFC 9457 problem document, registered once per API."""
    return api.model("Problem", _PROBLEM_FIELDS)


class ApiFlask(Api):
    """flask-restx ``Api`` answering with envelopes and problem documents."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("doc", "/")
        kwargs.setdefault("default_swagger_filename", "swagger")
        kwargs.setdefault("catch_all_404s", True)
        super().__init__(*args, **kwargs)

    def make_response(self, data: Any, *args: Any, **kwargs: Any) -> Response:
        if isinstance(data, ApiResponse):
            return data.to_response()
        response: Response = super().make_response(data, *args, **kwargs)
        return response

    def handle_error(self, e: Exception) -> Response:
        return problem_response(e)

    def _register_specs(self, app_or_blueprint: Any) -> None:
        super()._register_specs(app_or_blueprint)
        if self._add_specs:
            app_or_blueprint.add_url_rule(DOCUMENTS["OpenAPI 3.1"], "openapi", self._openapi_view)
            if self._doc:
                self.documentation(add_docs_ui(app_or_blueprint, self.title))

    def _register_apidoc(self, app: Any) -> None:
        """Not flask-restx's Swagger UI files: the docs UI is `core.docs`."""

    def _openapi_view(self) -> Response:
        """The OpenAPI 3.1 document (made once, from the swagger one)."""
        return Response(orjson.dumps(self.openapi), mimetype=JSON_MIMETYPE)

    @cached_property
    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 version of `__schema__` (`core.openapi.to_openapi`)."""
        return to_openapi(self.__schema__)

    @cached_property
    def __schema__(self) -> dict[str, Any]:
        schema: dict[str, Any] = dict(Api.__schema__.fget(self))
        if "paths" not in schema:  # flask-restx could not build it (and logged why)
            return schema
        schema["produces"] = [JSON_MIMETYPE, PROBLEM_MIMETYPE]
        schema.pop("responses", None)  # flask-restx's X-Fields mask errors; masks are off
        definitions = schema.setdefault("definitions", {})
        definitions["Problem"] = problem_model(self).__schema__
        default = {
            "description": "Error (RFC 9457 problem document)",
            "schema": {"$ref": "#/definitions/Problem"},
        }
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                if method != "parameters":
                    operation.setdefault("responses", {}).setdefault("default", default)
        return schema
