"""Errors as RFC 9457 problem details.

`ApiException` and its subclasses are what application code raises; like
werkzeug's HTTP errors, each is a small class with a class-level ``code`` and
``title``. `problem_response` renders any exception, ours, werkzeug's own (404,
405, 413, 415, malformed JSON) or an unexpected one, into the one documented
shape, ``application/problem+json``::

    {"type": "about:blank", "title": "Not Found", "status": 404,
     "detail": "...", "instance": "/api/entities/7", "requestId": "..."}

Validation errors add ``errors: [{"pointer": "/name", "detail": "..."}]``.
Unexpected exceptions become a 500 whose body says nothing of the internals;
the traceback goes to the log with the request id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import orjson
from flask import Response, g, has_request_context, request
from werkzeug.exceptions import HTTPException

__all__ = [
    "PROBLEM_MIMETYPE",
    "ApiException",
    "BadGateway",
    "BadRequest",
    "Conflict",
    "FieldError",
    "Forbidden",
    "GatewayTimeout",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "parameter_error",
    "problem_response",
]

PROBLEM_MIMETYPE = "application/problem+json"

log = logging.getLogger("core.errors")

FieldError = dict[str, str]
"""One validation error: ``{"pointer": "/name", "detail": "..."}`` for a body
field, ``{"parameter": "pageSize", "detail": "..."}`` for a query parameter."""


class ApiException(Exception):
    """An error the client can act on, rendered as a problem document.

    Raise a subclass where one fits; ``ApiException(message, code=...)`` covers
    the rest. ``headers`` are added to the response (``Retry-After``, say).
    """

    code: ClassVar[int] = 400
    title: ClassVar[str | None] = None

    def __init__(
        self,
        message: str | None = None,
        code: int | None = None,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = code or self.code
        self.detail = message or HTTPStatus(self.status).description
        self.errors = list(errors)
        self.headers = dict(headers or {})
        super().__init__(self.detail)

    @property
    def problem_title(self) -> str:
        return self.title or HTTPStatus(self.status).phrase


class BadRequest(ApiException):
    code = 400


class Unauthorized(ApiException):
    code = 401


class Forbidden(ApiException):
    code = 403


class NotFound(ApiException):
    code = 404


class Conflict(ApiException):
    code = 409


class PreconditionFailed(ApiException):
    code = 412


class PayloadTooLarge(ApiException):
    code = 413


class UnsupportedMediaType(ApiException):
    code = 415


class UnprocessableEntity(ApiException):
    code = 422
    title = "Validation Failed"


class TooManyRequests(ApiException):
    code = 429


class BadGateway(ApiException):
    code = 502


class ServiceUnavailable(ApiException):
    code = 503


class GatewayTimeout(ApiException):
    code = 504


def parameter_error(parameter: str, detail: str) -> BadRequest:
    """The 400 for one bad query parameter, naming it."""
    return BadRequest(
        f"Query parameter '{parameter}': {detail}",
        errors=[{"parameter": parameter, "detail": detail}],
    )


def _request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def problem_response(exc: BaseException, *, request_id: str | None = None) -> Response:
    """Render *exc* as ``application/problem+json``; the one error handler.

    *request_id* names the request where there is no Flask request to carry
    it: the servers' own answers to what never reached the app (`core.workers`).
    """
    if type(exc).__module__.startswith("sqlalchemy"):
        from .database import unavailable  # only services with a database get here

        exc = unavailable(exc) or exc
    if isinstance(exc, ApiException):
        status, title, detail = exc.status, exc.problem_title, exc.detail
        errors, headers = exc.errors, exc.headers
    elif isinstance(exc, HTTPException) and exc.code is not None:
        status, title = exc.code, HTTPStatus(exc.code).phrase
        detail = exc.description or HTTPStatus(exc.code).description
        errors = []
        # Keep what the error says beyond its HTML body: Allow, Retry-After, ...
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    else:
        status, title = 500, HTTPStatus.INTERNAL_SERVER_ERROR.phrase
        detail = "The server could not complete the request."
        errors, headers = [], {}
        log.error(
            "unhandled exception",
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"request_id": _request_id()},
        )

    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if has_request_context():
        body["instance"] = request.path
    request_id = request_id or _request_id()
    if request_id:
        body["requestId"] = request_id
    if errors:
        body["errors"] = errors
    response = Response(orjson.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    response.headers.update(headers)
    return response
