"""``math_api.aws_lambda:handler`` called with AWS's sample events (events/)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from core.lambda_events import MULTI_VALUE, SOURCES, event_like, invoke, load_event
from math_api.aws_lambda import handler

EVENTS = Path(__file__).resolve().parent / "events"
PROBLEM = "application/problem+json"


def sample(source: str) -> dict[str, Any]:
    return load_event(EVENTS, source)


@pytest.mark.parametrize("source", SOURCES)
def test_the_sample_sum(source: str) -> None:
    status, headers, body = invoke(handler, sample(source))  # GET /api/math/sum?a=40&b=2, as sent
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert body == {"data": {"result": 42}}


@pytest.mark.parametrize("source", SOURCES)
def test_bad_input_is_a_400_problem(source: str) -> None:
    event = event_like(sample(source), "GET", "/api/math/sum", query=[("a", "x"), ("b", "2")])
    status, headers, body = invoke(handler, event)
    assert status == 400
    assert headers["content-type"] == PROBLEM
    assert body["errors"] == [{"parameter": "a", "detail": "Not a valid integer."}]


@pytest.mark.parametrize("source", MULTI_VALUE)
def test_a_repeated_parameter_arrives_twice_and_is_refused(source: str) -> None:
    query = [("a", "1"), ("a", "2"), ("b", "3")]
    status, headers, body = invoke(
        handler, event_like(sample(source), "GET", "/api/math/sum", query=query)
    )
    assert status == 400 and headers["content-type"] == PROBLEM
    assert body["errors"][0]["parameter"] == "a"


@pytest.mark.parametrize("source", SOURCES)
def test_request_ids_pass_through_headers(source: str) -> None:
    event = event_like(
        sample(source),
        "GET",
        "/api/math/sum",
        query=[("a", "1"), ("b", "2")],
        headers={"X-Request-ID": "lambda-req-0001"},
    )
    status, headers, body = invoke(handler, event)
    assert status == 200 and body == {"data": {"result": 3}}
    assert headers["x-request-id"] == "lambda-req-0001"


@pytest.mark.parametrize("source", SOURCES)
def test_unknown_paths_are_404_problems(source: str) -> None:
    status, headers, body = invoke(handler, event_like(sample(source), "GET", "/api/math/product"))
    assert status == 404 and headers["content-type"] == PROBLEM
    assert body["status"] == 404


@pytest.mark.parametrize("source", ["http-v2", "rest-v1"])
def test_docs_assets_go_base64(source: str) -> None:
    response = handler(event_like(sample(source), "GET", "/docs/favicon-32x32.png"), None)
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]).startswith(b"\x89PNG")


@pytest.mark.parametrize("source", SOURCES)
def test_metrics_answer_nobody_on_lambda(source: str) -> None:
    # The event's client address may be the client's own X-Forwarded-For.
    headers = {"X-Forwarded-For": "10.1.2.3, 198.51.100.7"}
    for sent in ({}, headers):
        event = event_like(sample(source), "GET", "/metrics", headers=sent)
        status, _, body = invoke(handler, event)
        assert status == 404 and body["status"] == 404, source
