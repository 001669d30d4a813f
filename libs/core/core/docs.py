"""The docs UI: Swagger UI 5 over both of an API's documents.

Swagger UI 5 renders OpenAPI 3.1 as well as Swagger 2.0; the copy flask-restx
bundles (4.x) renders only the latter. This one is flask-swagger-ui's, its
files served by the app itself under `ASSETS` (no CDN, and no online
validator badge: the page calls nothing but the app). Its page offers the two
documents of `DOCUMENTS` in the top bar, OpenAPI 3.1 first, at the paths the
client used: behind a trusted proxy that serves the app under a prefix
(``X-Forwarded-Prefix``, see ``TRUSTED_PROXY_HOPS``), under that prefix.
Every service serves it at ``/`` (`core.api.ApiFlask`), and the gateway over
its merged documents.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import version

from flask import Flask, render_template, request
from flask_swagger_ui import get_swaggerui_blueprint

__all__ = ["ASSETS", "DOCUMENTS", "add_docs_ui"]

ASSETS = "/docs"
"""Where the UI's files are served (``/docs/swagger-ui-bundle.js``, ...)."""
DOCUMENTS = {"OpenAPI 3.1": "/openapi.json", "Swagger 2.0": "/swagger"}
"""An API's documents, by the name the UI gives each (`core.api`, `core.openapi`)."""


def _config(root: str) -> dict[str, object]:
    """Swagger UI's settings, for an app served under *root* ("" or "/prefix")."""
    return {
        "dom_id": "#swagger-ui",
        "layout": "StandaloneLayout",
        "deepLinking": True,
        "urls": [{"name": name, "url": root + url} for name, url in DOCUMENTS.items()],
        "validatorUrl": None,  # else the page sends the document's URL to swagger.io
        # No OAuth 2 flow is offered, but the UI asks for this page's address.
        "oauth2RedirectUrl": f"{root}{ASSETS}/oauth2-redirect.html",
    }


def add_docs_ui(app: Flask, title: str) -> Callable[[], str]:
    """Serve the UI's files on *app* and give back the view of its page,
    for the caller to route (``/``); *title* is the page's title."""
    app.register_blueprint(
        get_swaggerui_blueprint(
            ASSETS, DOCUMENTS["OpenAPI 3.1"], config=_config(""), blueprint_name="docs"
        )
    )
    released = version("flask-swagger-ui")

    def page() -> str:
        root = request.script_root
        settings = json.dumps(_config(root)).replace("<", "\\u003c")  # inside <script>
        return render_template(
            "index.template.html",
            base_url=root + ASSETS,
            app_name=title,
            config_json=settings,
            version=released,
        )

    return page
