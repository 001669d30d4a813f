"""`core.aws_lambda`: the app built once, its engine options, `event_like`.

AWS's sample events (docker/lambda/events/) through an app are tested in
docker/lambda/events_test.py, and each service's handler beside it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request

from core import base_app
from core.aws_lambda import lambda_engine_options, lambda_handler
from core.lambda_events import event_like

# The least of each format (the samples in docker/lambda/events/ are whole).
V2 = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/",
    "rawQueryString": "",
    "cookies": ["theme=dark"],
    "headers": {"host": "abc.lambda-url.us-east-1.on.aws"},
    "requestContext": {
        "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"}
    },
    "isBase64Encoded": False,
}
V1 = {
    "resource": "/{proxy+}",
    "path": "/",
    "httpMethod": "GET",
    "headers": {"Host": "abc.execute-api.us-east-1.amazonaws.com"},
    "multiValueHeaders": {"Host": ["abc.execute-api.us-east-1.amazonaws.com"]},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "requestContext": {"stage": "prod", "httpMethod": "GET", "path": "/prod/"},
    "body": None,
    "isBase64Encoded": False,
}
ALB = {
    "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:..."}},
    "httpMethod": "GET",
    "path": "/",
    "queryStringParameters": {},
    "headers": {"host": "lb.us-east-1.elb.amazonaws.com"},
    "body": "",
    "isBase64Encoded": False,
}
QUERY = [("filter[id][in]", "1,2"), ("tag", "a b"), ("tag", "c")]


class Factory:
    """An app factory that records its calls; the app echoes what it was sent."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, env: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
        self.calls.append({"env": env, "overrides": dict(overrides or {})})
        app = base_app(__name__, env=env, overrides=overrides)

        @app.post("/echo")
        def echo() -> Response:
            return jsonify(
                args=request.args.to_dict(flat=False),
                cookies=request.cookies,
                body=request.get_json(),
            )

        return app


def test_the_app_is_built_once_and_serves_every_invocation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    factory = Factory()
    handler = lambda_handler(factory, env="test")
    assert len(factory.calls) == 1
    json_type = {"Content-Type": "application/json"}
    event = event_like(
        V2, "POST", "/echo", query=QUERY, headers=json_type, body=b'{"n": 1}', base64=True
    )
    for _ in range(3):
        response = handler(event, None)
        assert response["statusCode"] == 200
        assert json.loads(response["body"]) == {
            "args": {"filter[id][in]": ["1,2"], "tag": ["a b", "c"]},
            "cookies": {"theme": "dark"},
            "body": {"n": 1},
        }
    assert len(factory.calls) == 1
    assert factory.calls[0]["env"] == "test"
    options = factory.calls[0]["overrides"]["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options == {"pool_pre_ping": True}  # DATABASE_URL unset: the local SQLite


@pytest.mark.parametrize(
    ("url", "pooled"),
    [
        (None, False),
        ("", False),
        ("sqlite://", False),
        ("sqlite:////tmp/x.db", False),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/test", True),
    ],
)
def test_engine_options_pool_one_connection_except_on_sqlite(url: str | None, pooled: bool) -> None:
    options = lambda_engine_options(url)
    expected = {"pool_pre_ping": True, **({"pool_size": 1, "max_overflow": 0} if pooled else {})}
    assert options == expected


def test_database_url_picks_the_pool_and_overrides_go_last(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    factory = Factory()
    lambda_handler(factory, overrides={"LOG_LEVEL": "ERROR"})
    lambda_handler(factory, overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    first, second = (call["overrides"] for call in factory.calls)
    assert first["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 1
    assert first["LOG_LEVEL"] == "ERROR"
    assert "pool_size" not in second["SQLALCHEMY_ENGINE_OPTIONS"]


def test_the_engine_gets_a_pool_of_one(app_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    built: list[Flask] = []

    def factory(**kwargs: Any) -> Flask:
        built.append(app_factory(**kwargs))
        return built[-1]

    lambda_handler(factory, env="test")  # the engine is made, not connected
    with built[0].app_context():
        pool = built[0].extensions["sqlalchemy"].engine.pool
        assert pool.size() == 1
        assert pool._max_overflow == 0
        assert pool._pre_ping is True


def test_event_like_v2() -> None:
    event = event_like(V2, "PUT", "/a b", query=QUERY, headers={"X-Id": "7"}, body=b"hi")
    assert event["rawPath"] == "/a b"
    assert event["rawQueryString"] == "filter%5Bid%5D%5Bin%5D=1%2C2&tag=a%20b&tag=c"
    assert event["queryStringParameters"] == {"filter[id][in]": "1,2", "tag": "a b,c"}
    assert event["requestContext"]["http"]["method"] == "PUT"
    assert event["headers"] == {"host": "abc.lambda-url.us-east-1.on.aws", "x-id": "7"}
    assert (event["body"], event["isBase64Encoded"]) == ("hi", False)
    assert V2["rawPath"] == "/"  # the sample is left alone


def test_event_like_rest_v1() -> None:
    event = event_like(
        V1, "POST", "/x", query=QUERY, headers={"X-Id": "7"}, body=b"hi", base64=True
    )
    assert (event["httpMethod"], event["path"]) == ("POST", "/x")
    assert event["requestContext"]["path"] == "/prod/x"
    assert event["pathParameters"] == {"proxy": "x"}
    assert event["multiValueQueryStringParameters"] == {
        "filter[id][in]": ["1,2"],
        "tag": ["a b", "c"],
    }
    assert event["queryStringParameters"] == {"filter[id][in]": "1,2", "tag": "c"}
    assert event["headers"]["X-Id"] == "7" and event["multiValueHeaders"]["X-Id"] == ["7"]
    assert base64.b64decode(event["body"]) == b"hi" and event["isBase64Encoded"] is True
    assert event_like(V1)["queryStringParameters"] is None


def test_event_like_alb_passes_the_query_encoded() -> None:
    event = event_like(ALB, query=QUERY)
    assert event["queryStringParameters"] == {"filter%5Bid%5D%5Bin%5D": "1%2C2", "tag": "c"}
    assert "multiValueQueryStringParameters" not in event
    assert event_like(ALB)["body"] == ""
