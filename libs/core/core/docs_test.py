"""The docs UI of a service: Swagger UI 5 over its two documents, from its own files."""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient

from core.conftest import create_app


def page_of(client: FlaskClient) -> tuple[str, dict[str, Any]]:
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    found = re.search(r"var user_config = (\{.*?\});", html)
    assert found, html
    return html, json.loads(found[1])


def test_the_page_offers_both_documents_openapi_3_1_first(client: FlaskClient) -> None:
    html, config = page_of(client)
    assert config["urls"] == [
        {"name": "OpenAPI 3.1", "url": "/openapi.json"},
        {"name": "Swagger 2.0", "url": "/swagger"},
    ]
    openapi = client.get("/openapi.json").get_json()
    swagger = client.get("/swagger").get_json()
    assert openapi["openapi"] == "3.1.0" and swagger["swagger"] == "2.0"
    assert f"<title>{swagger['info']['title']}</title>" in html
    assert config["validatorUrl"] is None  # no badge fetched from swagger.io
    assert "swagger.io" not in html


def test_under_a_proxy_s_prefix_the_page_names_its_paths_with_it() -> None:
    client = create_app("test", {"TRUSTED_PROXY_HOPS": 1}).test_client()
    response = client.get("/", headers={"X-Forwarded-Prefix": "/notes-api"})
    html = response.get_data(as_text=True)
    found = re.search(r"var user_config = (\{.*?\});", html)
    assert found
    assert [u["url"] for u in json.loads(found[1])["urls"]] == [
        "/notes-api/openapi.json",
        "/notes-api/swagger",
    ]
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/notes-api/docs/") for a in assets)


def test_the_ui_is_swagger_ui_5_from_local_files(client: FlaskClient) -> None:
    html, _ = page_of(client)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/docs/swagger-ui-bundle.js" in assets and "/docs/swagger-ui.css" in assets
    for asset in assets:
        assert asset.startswith("/docs/"), asset  # no other host: it works offline
        assert client.get(asset).status_code == 200, asset
    assert client.get("/docs/VERSION").get_data(as_text=True).startswith("v5.")


def test_flask_restx_s_older_ui_is_not_served(client: FlaskClient) -> None:
    assert client.get("/swaggerui/swagger-ui-bundle.js").status_code == 404
    assert client.get("/docs/no-such-file.js").status_code == 404
