"""The math service's app factory."""

from collections.abc import Mapping
from typing import Any

from flask import Flask

from arithmetic import register_routes as register_arithmetic
from core import ApiFlask, build_app


def register_routes(api: ApiFlask, app: Flask) -> None:
    register_arithmetic(api, app)


def create_app(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    return build_app(
        __name__,
        title="Math",
        version="1.0",
        description="Stateless arithmetic.",
        register_routes=register_routes,
        env=env,
        overrides=overrides,
    )
