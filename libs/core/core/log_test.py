import json
import logging

import pytest
from flask.testing import FlaskClient

from core.log import init_logging, is_valid_request_id


@pytest.mark.parametrize(
    "value", ["abc", "3f2b9c1e-4d5a-4b6c-8e7f-9a0b1c2d3e4f", "a.b_c:d-e", "x" * 128]
)
def test_well_formed_request_ids(value: str) -> None:
    assert is_valid_request_id(value)


@pytest.mark.parametrize("value", [None, "", "x" * 129, "a b", "a\nb", "<script>", "é"])
def test_malformed_request_ids(value: str | None) -> None:
    assert not is_valid_request_id(value)


def test_a_well_formed_request_id_is_kept(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "client-id-1"})
    assert response.headers["X-Request-ID"] == "client-id-1"


def test_a_missing_or_malformed_request_id_is_replaced(client: FlaskClient) -> None:
    generated = client.get("/healthz").headers["X-Request-ID"]
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\t"}).headers["X-Request-ID"]
    assert is_valid_request_id(generated) and is_valid_request_id(replaced)
    assert generated != replaced and replaced != "bad id\t"


def test_problems_carry_the_request_id(client: FlaskClient) -> None:
    response = client.get("/nowhere", headers={"X-Request-ID": "trace-9"})
    assert response.get_json()["requestId"] == "trace-9"


def test_access_and_error_logs_are_json_with_the_request_id(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    init_logging("WARNING")
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "_core_json", False)]
    with caplog.at_level(logging.INFO):
        client.get("/api/nowhere", headers={"X-Request-ID": "trace-42"})
        client.get("/api/notes/boom", headers={"X-Request-ID": "trace-43"})
    records = [json.loads(handler.format(r)) for r in caplog.records]
    access = [r for r in records if r["logger"] == "core.access"]
    assert {
        "method": "GET",
        "path": "/api/nowhere",
        "status": 404,
        "request_id": "trace-42",
    }.items() <= access[0].items()
    assert access[0]["duration_ms"] >= 0 and access[0]["level"] == "INFO"
    assert access[1]["status"] == 500 and access[1]["request_id"] == "trace-43"
    [error] = [r for r in records if r["logger"] == "core.errors"]
    assert error["request_id"] == "trace-43" and error["level"] == "ERROR"
    assert "RuntimeError" in error["exc_info"]
