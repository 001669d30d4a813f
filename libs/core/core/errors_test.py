import json
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core import ApiException, NotFound, PreconditionFailed, TooManyRequests
from core.errors import problem_response

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "requestId"}


def test_api_exception_defaults(app: Flask) -> None:
    with app.test_request_context("/things/1"):
        response = problem_response(ApiException("Numbers must be integers"))
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert json.loads(response.data) == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "Numbers must be integers",
        "instance": "/things/1",
    }


@pytest.mark.parametrize(
    ("exc", "status", "title"),
    [
        (NotFound(), 404, "Not Found"),
        (PreconditionFailed("stale"), 412, "Precondition Failed"),
        (ApiException("teapot", code=418), 418, "I'm a Teapot"),
    ],
)
def test_subclasses_carry_their_status(
    app: Flask, exc: ApiException, status: int, title: str
) -> None:
    with app.test_request_context("/"):
        body = json.loads(problem_response(exc).data)
    assert (body["status"], body["title"]) == (status, title)
    assert body["detail"]


def test_headers_are_sent(app: Flask) -> None:
    with app.test_request_context("/"):
        response = problem_response(TooManyRequests(headers={"Retry-After": "3"}))
    assert response.headers["Retry-After"] == "3"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/nowhere", 404),
        ("put", "/api/notes", 405),
        ("post", "/healthz", 405),
        ("get", "/api/notes/x", 404),
    ],
)
def test_werkzeug_errors_are_problems(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status and body["instance"] == path
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_too_large_body_is_413(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = app.test_client().post("/api/notes", json={"title": "x" * 200})
    assert response.status_code == 413
    assert response.get_json()["status"] == 413


def test_unexpected_errors_are_500_without_internals(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="core.errors"):
        response = client.get("/api/notes/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    body = response.get_json()
    assert body["title"] == "Internal Server Error"
    assert body["requestId"] == "req-500"
    assert "hunter2" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    [record] = [r for r in caplog.records if r.name == "core.errors"]
    assert getattr(record, "request_id", None) == "req-500"
    assert record.exc_info is not None and "hunter2" in str(record.exc_info[1])
