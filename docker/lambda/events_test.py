"""AWS's sample events (events/, the documented formats) through `core.aws_lambda`.

One app that echoes the request, behind each HTTP event source: API Gateway
REST (v1), HTTP API (v2), a Function URL (v2's format), an ALB with and
without multi-value headers.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request

from core import base_app
from core.aws_lambda import LambdaHandler, lambda_handler
from core.lambda_events import event_like, load_event

EVENTS = Path(__file__).resolve().parent / "events"
HOSTS = {
    "rest-v1": "1234567890.execute-api.us-east-1.amazonaws.com",
    "http-v2": "r3pmxmplak.execute-api.us-east-1.amazonaws.com",
    "function-url": "abcdefghijklmnopqrstuvwxyz0123456.lambda-url.us-east-1.on.aws",
    "alb": "lambda-alb-123578498.us-east-1.elb.amazonaws.com",
    "alb-multi-value": "lambda-alb-123578498.us-east-1.elb.amazonaws.com",
}
SOURCES = list(HOSTS)
PNG = b"\x89PNG\r\n\x1a\n\x00\xff"


def sample(source: str) -> dict[str, Any]:
    return load_event(EVENTS, source)


def create_app(env: str | None = None, overrides: Any = None) -> Flask:
    app = base_app(__name__, env=env, overrides=overrides)

    @app.route("/echo/<name>", methods=["GET", "POST"])
    def echo(name: str) -> Response:
        return jsonify(
            name=name,
            method=request.method,
            args=request.args.to_dict(flat=False),
            cookies=request.cookies,
            custom=request.headers.getlist("X-Custom"),
            host=request.host,
            body=request.get_data(as_text=True),
        )

    @app.get("/png")
    def png() -> Response:
        return Response(PNG, content_type="image/png")

    return app


@pytest.fixture(scope="module")
def handler() -> LambdaHandler:
    return lambda_handler(create_app, env="test")


def body_of(response: dict[str, Any]) -> Any:
    raw = response["body"]
    return json.loads(base64.b64decode(raw) if response["isBase64Encoded"] else raw)


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    if "multiValueHeaders" in response:
        return {name.lower(): values[-1] for name, values in response["multiValueHeaders"].items()}
    return {name.lower(): value for name, value in response["headers"].items()}


@pytest.mark.parametrize("source", SOURCES)
def test_the_samples_are_the_documented_get(handler: LambdaHandler, source: str) -> None:
    event = sample(source)
    event["path" if "path" in event else "rawPath"] = "/echo/sample"
    if "http" in event["requestContext"]:
        event["requestContext"]["http"]["path"] = "/echo/sample"
    response = handler(event, None)
    assert response["statusCode"] == 200, response
    echoed = body_of(response)
    assert (echoed["method"], echoed["name"], echoed["host"]) == ("GET", "sample", HOSTS[source])
    assert echoed["args"] == {"a": ["40"], "b": ["2"]}
    assert echoed["cookies"] == {"theme": "dark", "session": "abc123"}


@pytest.mark.parametrize("source", SOURCES)
def test_a_base64_post_reaches_the_app_whole(handler: LambdaHandler, source: str) -> None:
    query = [("filter[id][in]", "1,2"), ("tag", "a b"), ("tag", "c&d")]
    event = event_like(
        sample(source),
        "POST",
        "/echo/x%20y",
        query=query,
        headers={"X-Custom": "one", "Content-Type": "application/json"},
        body='{"text": "café"}'.encode(),
        base64=True,
    )
    response = handler(event, None)
    assert response["statusCode"] == 200, response
    echoed = body_of(response)
    assert (echoed["method"], echoed["name"]) == ("POST", "x y")
    assert echoed["body"] == '{"text": "café"}'
    assert echoed["custom"] == ["one"]
    assert echoed["cookies"] == {"theme": "dark", "session": "abc123"}
    if source == "alb":  # without multi-value headers an ALB sends one value per name
        assert echoed["args"] == {"filter[id][in]": ["1,2"], "tag": ["c&d"]}
    else:
        assert echoed["args"] == {"filter[id][in]": ["1,2"], "tag": ["a b", "c&d"]}


@pytest.mark.parametrize("source", ["rest-v1", "alb-multi-value"])
def test_multi_value_headers_both_ways(handler: LambdaHandler, source: str) -> None:
    event = event_like(sample(source), "GET", "/echo/a")
    event["multiValueHeaders"]["X-Custom"] = ["one", "two"]
    response = handler(event, None)
    assert body_of(response)["custom"] == ["one,two"]  # WSGI: one header, values joined
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert "headers" not in response


@pytest.mark.parametrize("source", ["http-v2", "function-url", "alb"])
def test_single_value_sources_get_single_headers(handler: LambdaHandler, source: str) -> None:
    response = handler(event_like(sample(source), "GET", "/echo/a"), None)
    assert headers_of(response)["content-type"] == "application/json"
    assert headers_of(response)["x-request-id"]
    assert response["isBase64Encoded"] is False


@pytest.mark.parametrize("source", SOURCES)
def test_binary_responses_go_base64_and_json_stays_text(
    handler: LambdaHandler, source: str
) -> None:
    response = handler(event_like(sample(source), "GET", "/png"), None)
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == PNG
    assert handler(event_like(sample(source), "GET", "/echo/a"), None)["isBase64Encoded"] is False


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_problem_documents(handler: LambdaHandler, source: str) -> None:
    response = handler(event_like(sample(source), "GET", "/nowhere"), None)
    assert response["statusCode"] == 404
    assert headers_of(response)["content-type"] == "application/problem+json"
    assert response["isBase64Encoded"] is False
    assert body_of(response)["status"] == 404
