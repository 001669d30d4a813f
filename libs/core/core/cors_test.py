"""CORS on a real app: the setting parsed, requests from allowed and other
origins, preflights answered before any route, the default of each environment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from core.config import ConfigError
from core.conftest import create_app
from core.cors import ALLOWED, EXPOSED, METHODS, parse_origins

APP = "https://app.example.com"
OTHER = "https://evil.example.net"
MakeApp = Callable[..., Flask]


@pytest.fixture
def app_factory() -> MakeApp:
    """The core's test app, *APP* and an IPv6 origin allowed."""

    def make(env: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
        return create_app(env, {"CORS_ORIGINS": f"{APP}, http://[::1]:3000", **(overrides or {})})

    return make


@pytest.fixture
def cors(client: FlaskClient) -> FlaskClient:
    return client


def acl(response: TestResponse) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def preflight(client: FlaskClient, origin: str, method: str, headers: str = "") -> TestResponse:
    extra = {"Access-Control-Request-Headers": headers} if headers else {}
    return client.options(
        "/api/notes",
        headers={"Origin": origin, "Access-Control-Request-Method": method, **extra},
    )


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (None, None),
        ("", None),
        (" , ", None),
        ("*", ("*",)),
        (f"{APP},{APP} http://localhost:5173", (APP, "http://localhost:5173")),
        ([APP, "http://[::1]:3000"], (APP, "http://[::1]:3000")),
    ],
)
def test_the_setting_parsed(value: Any, parsed: Any) -> None:
    assert parse_origins(value) == parsed


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (f"{APP}/", f"'{APP}/'"),  # a trailing slash is no origin
        ("app.example.com", "'app.example.com'"),  # nor a host without its scheme
        (f"{APP}/api", f"'{APP}/api'"),
        ("ftp://app.example.com", "'ftp://app.example.com'"),
        ("https://user@app.example.com", "'https://user@app.example.com'"),
        ([APP, 3], "3"),
    ],
)
def test_what_is_no_origin_is_named(value: Any, named: str) -> None:
    with pytest.raises(ValueError, match=f"^CORS_ORIGINS: {named} is no origin"):
        parse_origins(value)


def test_any_origin_goes_alone() -> None:
    with pytest.raises(ValueError, match=r"^CORS_ORIGINS: \* allows every origin"):
        parse_origins(f"*, {APP}")


def test_a_bad_setting_stops_the_start() -> None:
    with pytest.raises(ConfigError, match="is no origin"):
        create_app("test", {"CORS_ORIGINS": "app.example.com"})


def test_an_allowed_origin_may_read_the_answer_and_its_headers(cors: FlaskClient) -> None:
    made = cors.post("/api/notes", json={"title": "Hi"}, headers={"Origin": APP})
    assert made.status_code == 201
    assert acl(made) == {
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Expose-Headers": ", ".join(EXPOSED),
    }
    assert made.headers["Vary"] == "Origin"
    assert {"ETag", "Location", "X-Request-ID"} <= set(EXPOSED)
    # Origins compare without case; an error is readable too.
    missing = cors.get("/api/notes/999", headers={"Origin": "HTTP://[::1]:3000"})
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"
    assert missing.headers["Access-Control-Allow-Origin"] == "HTTP://[::1]:3000"


def test_another_origin_gets_no_grant(cors: FlaskClient) -> None:
    for origin in (OTHER, f"{APP}.evil.example.net", "https://app.example.co", "null"):
        response = cors.get("/api/notes", headers={"Origin": origin})
        assert response.status_code == 200 and acl(response) == {}, origin
        assert response.headers["Vary"] == "Origin"
    plain = cors.get("/api/notes")  # no Origin: not a browser's cross-origin call
    assert acl(plain) == {} and plain.headers["Vary"] == "Origin"


def test_a_preflight_is_answered_before_any_route(cors: FlaskClient) -> None:
    asked = "content-type, authorization, if-match, idempotency-key, x-secret"
    response = preflight(cors, APP, "PATCH", asked)
    assert response.status_code == 204 and response.data == b""
    assert acl(response) == {
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Allow-Methods": ", ".join(sorted(METHODS)),
        # What was asked and is allowed; not x-secret.
        "Access-Control-Allow-Headers": "authorization, content-type, idempotency-key, if-match",
        "Access-Control-Max-Age": "600",
        "Access-Control-Expose-Headers": ", ".join(EXPOSED),
    }
    assert response.headers["Vary"] == "Origin"
    assert {"Authorization", "If-Match", "Idempotency-Key"} <= set(ALLOWED)
    # Answered here: a path no route has is answered the same way.
    nowhere = cors.options(
        "/no/such/route", headers={"Origin": APP, "Access-Control-Request-Method": "GET"}
    )
    assert nowhere.status_code == 204 and "Access-Control-Allow-Methods" in nowhere.headers


def test_a_preflight_of_another_origin_or_method_grants_nothing(cors: FlaskClient) -> None:
    refused = preflight(cors, OTHER, "POST", "content-type")
    assert refused.status_code == 204 and acl(refused) == {}
    trace = preflight(cors, APP, "TRACE")
    assert "Access-Control-Allow-Methods" not in trace.headers
    assert "Access-Control-Max-Age" not in trace.headers


def test_a_plain_options_request_still_reaches_the_app(cors: FlaskClient) -> None:
    response = cors.options("/api/notes", headers={"Origin": APP})
    assert response.status_code == 200 and "POST" in response.headers["Allow"]
    assert response.headers["Access-Control-Allow-Origin"] == APP


def test_the_app_s_own_cors_headers_are_replaced() -> None:
    app = create_app("test", {"CORS_ORIGINS": APP})

    @app.after_request
    def stray(response: Any) -> Any:  # as an upstream behind the gateway might
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Accept-Encoding, origin"
        return response

    response = app.test_client().get("/healthz", headers={"Origin": OTHER})
    assert acl(response) == {}
    assert response.headers.getlist("Vary") == ["Accept-Encoding, origin"]
    allowed = app.test_client().get("/healthz", headers={"Origin": APP})
    assert acl(allowed)["Access-Control-Allow-Origin"] == APP
    assert "Access-Control-Allow-Credentials" not in allowed.headers


@pytest.mark.parametrize(("env", "granted"), [("dev", "*"), ("test", None), ("prod", None)])
def test_only_dev_lets_any_origin_in_by_default(
    monkeypatch: pytest.MonkeyPatch, env: str, granted: str | None
) -> None:
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ALLOWED_HOSTS", "localhost")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///:memory:")
    monkeypatch.setenv("JWT_SECRET", "j" * 40)
    client = create_app(env).test_client()
    response = client.get("/healthz", headers={"Origin": OTHER})
    assert response.status_code == 200
    assert response.headers.get("Access-Control-Allow-Origin") == granted
    asked = preflight(client, OTHER, "DELETE")
    assert asked.headers.get("Access-Control-Allow-Origin") == granted


def test_the_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", APP)
    monkeypatch.setenv("CORS_MAX_AGE", "60")
    app = create_app("test")
    assert app.config["CORS_ORIGINS"] == (APP,)
    assert preflight(app.test_client(), APP, "GET").headers["Access-Control-Max-Age"] == "60"
