"""Metrics of the core's test app in one process: what is recorded, who may read it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from core.config import ConfigError
from core.conftest import create_app
from core.metrics import DEFAULT_ALLOWED_FROM, parse_networks


def count(route: str, method: str, status: str) -> float:
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("http_request_duration_seconds_count", labels) or 0.0


def test_each_request_is_counted_by_its_route_template(client: FlaskClient) -> None:
    item = "/api/notes/<int:note_id>"
    before = {
        key: count(*key)
        for key in [
            ("/api/notes", "POST", "201"),
            (item, "GET", "200"),
            (item, "GET", "404"),
            ("unmatched", "GET", "404"),
            ("unmatched", "DELETE", "405"),
        ]
    }
    made = client.post("/api/notes", json={"title": "Hi"}).get_json()["data"]["id"]
    for _ in range(3):
        assert client.get(f"/api/notes/{made}").status_code == 200
    assert client.get("/api/notes/999999").status_code == 404
    assert client.get("/no/such/path").status_code == 404
    assert client.delete("/api/notes").status_code == 405
    after = {key: count(*key) - value for key, value in before.items()}
    assert after == {
        ("/api/notes", "POST", "201"): 1,
        (item, "GET", "200"): 3,
        (item, "GET", "404"): 1,
        ("unmatched", "GET", "404"): 1,
        ("unmatched", "DELETE", "405"): 1,
    }
    # No raw path becomes a label.
    routes = {
        s.labels["route"] for m in REGISTRY.collect() for s in m.samples if "route" in s.labels
    }
    assert not {f"/api/notes/{made}", "/api/notes/999999", "/no/such/path"} & routes


def test_metrics_are_prometheus_text_for_this_machine(client: FlaskClient) -> None:
    client.get("/healthz")
    response = client.get("/metrics")  # the test client is 127.0.0.1
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    families = {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}
    assert families["http_request_duration_seconds"].type == "histogram"
    assert families["db_pool_connections_in_use"].type == "gauge"
    healthz = [
        s
        for s in families["http_request_duration_seconds"].samples
        if s.name.endswith("_count") and s.labels["route"] == "/healthz"
    ]
    assert healthz and healthz[0].value >= 1


@pytest.mark.parametrize("address", ["203.0.113.9", "2001:db8::1", "8.8.8.8"])
def test_a_public_address_gets_a_404(client: FlaskClient, address: str) -> None:
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("address", ["10.1.2.3", "172.31.0.1", "192.168.1.1", "::1", "fd00::5"])
def test_private_networks_may_read_by_default(client: FlaskClient, address: str) -> None:
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == 200


def test_behind_a_proxy_the_client_s_own_address_decides() -> None:
    app = create_app("test", {"TRUSTED_PROXY_HOPS": 1})
    client = app.test_client()
    public = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert public.status_code == 404  # though the proxy itself is 127.0.0.1
    assert client.get("/metrics", headers={"X-Forwarded-For": "10.0.0.7"}).status_code == 200


def test_the_allowed_networks_are_a_setting() -> None:
    app = create_app("test", {"METRICS_ALLOWED_FROM": "203.0.113.0/24, 2001:db8::1"})
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "2001:db8::1"}).status_code == 200
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is no longer in
    with pytest.raises(ConfigError, match="METRICS_ALLOWED_FROM: 'intranet' is no network"):
        create_app("test", {"METRICS_ALLOWED_FROM": "10.0.0.0/8 intranet"})


def test_the_default_networks() -> None:
    assert [str(n) for n in parse_networks(DEFAULT_ALLOWED_FROM)] == [
        "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"
    ]  # fmt: skip
    assert parse_networks(["10.0.0.1"])[0].num_addresses == 1


def test_the_pool_gauge_follows_connections_in_use(app: Flask, db: SQLAlchemy) -> None:
    def in_use() -> float:
        return REGISTRY.get_sample_value("db_pool_connections_in_use") or 0.0

    idle = in_use()
    db.session.execute(sa.text("SELECT 1"))  # the session holds a connection now
    assert in_use() == idle + 1
    with db.engine.connect() as other:
        other.execute(sa.text("SELECT 1"))
        assert in_use() == idle + 2
    assert in_use() == idle + 1
    db.session.remove()
    assert in_use() == idle


def test_a_method_http_does_not_define_is_counted_as_other(client: FlaskClient) -> None:
    before = count("unmatched", "other", "405")
    for method in ("ZAAAA", "ZAAAB", "PROPFIND"):
        assert client.open("/api/notes", method=method).status_code == 405
    assert count("unmatched", "other", "405") - before == 3
    methods = {s.labels.get("method") for m in REGISTRY.collect() for s in m.samples}
    assert not {"ZAAAA", "ZAAAB", "PROPFIND"} & methods
