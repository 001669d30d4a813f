from typing import Any

import pytest
from flask import Flask, request

from core.app import base_app
from core.config import ConfigError
from core.hosts import host_is_allowed, parse_allowed_hosts

ALLOWED = parse_allowed_hosts("api.example.com, .example.org [::1] 127.0.0.1 Bücher.example")


@pytest.mark.parametrize(
    "host",
    [
        "api.example.com",
        "api.example.com:8443",  # the port is not part of the match
        "API.Example.COM",  # names are case-insensitive (RFC 9110)
        "api.example.com.",  # the absolute form of the same name
        "example.org",  # .example.org: the domain itself
        "eu.api.example.org:8000",  # and any subdomain
        "[::1]",
        "[::1]:8000",
        "127.0.0.1:18100",
        "xn--bcher-kva.example",  # written in the setting as Bücher.example
    ],
)
def test_allowed_hosts(host: str) -> None:
    assert host_is_allowed(host, ALLOWED)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "api.example.com.evil.example",
        "evilapi.example.com",
        "eu.api.example.com",  # no leading dot: that name only
        "badexample.org",
        "[::2]",
        "[::1",
        "127.0.0.2",
        "",  # no Host, or one werkzeug found malformed
        "api.example.com:",
        "api.example.com:123456",
        "api.example.com/evil",
        "api.example.com@evil.example",
    ],
)
def test_refused_hosts(host: str) -> None:
    assert not host_is_allowed(host, ALLOWED)


def test_no_setting_allows_any_host() -> None:
    assert host_is_allowed("evil.example", None)
    assert parse_allowed_hosts(None) is None


def test_the_setting_is_a_list_or_a_text() -> None:
    assert parse_allowed_hosts(["API.example.com", "api.example.com", ".Example.org."]) == (
        "api.example.com",
        ".example.org",
    )


@pytest.mark.parametrize(
    "value", ["*", "api.example.com:443", "https://api.example.com", "a/b", "::1", "a..b", " , "]
)
def test_what_is_no_host_name_is_refused_at_start(value: str) -> None:
    with pytest.raises(ConfigError, match="ALLOWED_HOSTS"):
        base_app(__name__, env="test", overrides={"ALLOWED_HOSTS": value})


def make(**overrides: Any) -> Flask:
    app = base_app(__name__, env="test", overrides=overrides)

    @app.get("/here")
    def here() -> dict[str, str]:
        return {"url": request.base_url}

    return app


def test_dev_and_test_answer_any_host() -> None:
    for env in ("dev", "test"):
        app = base_app(__name__, env=env)
        assert app.config["ALLOWED_HOSTS"] is None
        response = app.test_client().get("/healthz", headers={"Host": "evil.example"})
        assert response.status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/here", "/nowhere"])
def test_an_unknown_host_is_a_400_problem_on_every_path(path: str) -> None:
    client = make(ALLOWED_HOSTS="api.example.com").test_client()
    response = client.get(path, headers={"Host": "evil.example", "X-Request-ID": "req-7"})
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 400 and body["requestId"] == "req-7"
    assert body["instance"] == path
    assert "evil.example" not in response.get_data(as_text=True)  # nothing reflected
    assert response.headers["X-Request-ID"] == "req-7"


def test_an_allowed_host_is_the_host_of_the_urls() -> None:
    client = make(ALLOWED_HOSTS="api.example.com,[::1]").test_client()
    response = client.get("/here", headers={"Host": "API.example.com:8443"})
    assert response.status_code == 200
    assert response.get_json() == {"url": "http://api.example.com:8443/here"}
    response = client.get("/here", headers={"Host": "[::1]:8000"})
    assert response.get_json() == {"url": "http://[::1]:8000/here"}


def test_behind_a_trusted_proxy_the_forwarded_host_is_checked() -> None:
    client = make(ALLOWED_HOSTS="api.example.com", TRUSTED_PROXY_HOPS=1).test_client()
    forwarded = {"Host": "entity:8001", "X-Forwarded-Host": "api.example.com"}
    response = client.get("/here", headers=forwarded)
    assert response.get_json() == {"url": "http://api.example.com/here"}
    # The proxy's own Host is not what links are built from: it need not be allowed...
    evil = {"Host": "api.example.com", "X-Forwarded-Host": "evil.example"}
    # ...and a forwarded host that is not allowed is refused, though the Host is.
    assert client.get("/here", headers=evil).status_code == 400


def test_without_trusted_proxies_a_forwarded_host_is_ignored() -> None:
    client = make(ALLOWED_HOSTS="api.example.com").test_client()
    headers = {"Host": "api.example.com", "X-Forwarded-Host": "evil.example"}
    response = client.get("/here", headers=headers)
    assert response.get_json() == {"url": "http://api.example.com/here"}
