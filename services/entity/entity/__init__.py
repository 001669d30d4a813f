"""Entities: model, interfaces, service and controller of the reference resource."""

from flask import Flask

from core import ApiFlask

from .controller import api as entity_api


def register_routes(api: ApiFlask, app: Flask) -> None:
    """Attach the entity namespace (``/api/entities``) to the service's API."""
    api.add_namespace(entity_api)
