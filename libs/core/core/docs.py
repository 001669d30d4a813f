"""The docs UI: Swagger UI 5 over both of an API's documents.

Swagger UI 5 renders OpenAPI 3.1 as well as Swagger 2.0; the copy flask-restx
bundles (4.x) renders only the latter. This one is flask-swagger-ui's, its
assets served by the app itself under `ASSETS` (no CDN: the page works with
no network). Its page offers the two documents of `DOCUMENTS` in the top
bar, OpenAPI 3.1 first. Every service serves it at ``/`` (`core.api.ApiFlask`),
and the gateway over its merged documents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from flask import Flask
from flask_swagger_ui import get_swaggerui_blueprint

__all__ = ["ASSETS", "DOCUMENTS", "add_docs_ui"]

ASSETS = "/docs"
"""Where the UI's files are served (``/docs/swagger-ui-bundle.js``, ...)."""
DOCUMENTS = {"OpenAPI 3.1": "/openapi.json", "Swagger 2.0": "/swagger"}
"""An API's documents, by the name the UI gives each (`core.api`, `core.openapi`)."""


def add_docs_ui(app: Flask, title: str) -> Callable[[], str]:
    """Serve the UI's files on *app* and give back the view of its page,
    for the caller to route (``/``); *title* is the page's title."""
    blueprint = get_swaggerui_blueprint(
        ASSETS,
        DOCUMENTS["OpenAPI 3.1"],
        config={
            "app_name": title,
            "urls": [{"name": name, "url": url} for name, url in DOCUMENTS.items()],
            # No OAuth 2 flow is offered, but the UI asks for this page's address.
            "oauth2RedirectUrl": f"{ASSETS}/oauth2-redirect.html",
        },
        blueprint_name="docs",
    )
    app.register_blueprint(blueprint)
    return cast(Callable[[], str], app.view_functions["docs.show"])
