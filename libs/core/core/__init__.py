"""flask-blueprint core: what every service of the monorepo is built on.

The public surface, by topic:

- resources: `BaseInterfaces`, `Field` (one declaration per field, see
  `core.interfaces`) and the decorators `accepts`, `accepts_query`, `responds`;
- responses: `ApiResponse`, `Page`, `ApiFlask`;
- errors: `ApiException` and its subclasses, rendered as RFC 9457 problems;
- apps: `build_app` (config, logs, request ids, docs, health) and `serve`
  (gunicorn); the pytest plugin is `core.testing`.

Each name is imported when first used, so a service loads only the parts of
core it uses (the gateway has no database, API or tokens of its own).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import ApiFlask as ApiFlask
    from .app import base_app as base_app
    from .app import build_app as build_app
    from .decorators import accepts as accepts
    from .decorators import accepts_query as accepts_query
    from .decorators import responds as responds
    from .errors import ApiException as ApiException
    from .errors import BadGateway as BadGateway
    from .errors import BadRequest as BadRequest
    from .errors import Conflict as Conflict
    from .errors import Forbidden as Forbidden
    from .errors import GatewayTimeout as GatewayTimeout
    from .errors import NotFound as NotFound
    from .errors import PayloadTooLarge as PayloadTooLarge
    from .errors import PreconditionFailed as PreconditionFailed
    from .errors import ServiceUnavailable as ServiceUnavailable
    from .errors import TooManyRequests as TooManyRequests
    from .errors import Unauthorized as Unauthorized
    from .errors import UnprocessableEntity as UnprocessableEntity
    from .errors import UnsupportedMediaType as UnsupportedMediaType
    from .interfaces import BaseInterfaces as BaseInterfaces
    from .interfaces import Field as Field
    from .response import ApiResponse as ApiResponse
    from .response import Page as Page

_EXPORTS = {
    "ApiFlask": "api",
    "base_app": "app",
    "build_app": "app",
    "accepts": "decorators",
    "accepts_query": "decorators",
    "responds": "decorators",
    "ApiException": "errors",
    "BadGateway": "errors",
    "BadRequest": "errors",
    "Conflict": "errors",
    "Forbidden": "errors",
    "GatewayTimeout": "errors",
    "NotFound": "errors",
    "PayloadTooLarge": "errors",
    "PreconditionFailed": "errors",
    "ServiceUnavailable": "errors",
    "TooManyRequests": "errors",
    "Unauthorized": "errors",
    "UnprocessableEntity": "errors",
    "UnsupportedMediaType": "errors",
    "BaseInterfaces": "interfaces",
    "Field": "interfaces",
    "ApiResponse": "response",
    "Page": "response",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
