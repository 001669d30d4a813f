"""Arithmetic on query parameters: ``GET /api/math/sum``."""

from flask import Flask

from core import ApiFlask

from .controller import api as arithmetic_api


def register_routes(api: ApiFlask, app: Flask) -> None:
    """Attach this topic's namespace to the service's API."""
    api.add_namespace(arithmetic_api)
