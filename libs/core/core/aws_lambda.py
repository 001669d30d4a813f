"""AWS Lambda: a service's app behind API Gateway (REST v1, HTTP v2), an ALB or a Function URL.

A service's ``aws_lambda`` module is one line::

    handler = lambda_handler(create_app)

The app is built there, once per container, while Lambda imports the module
(the init phase, the cold start); every invocation then reuses it. apig-wsgi
turns each event into a WSGI request and the answer into the response the
event's source expects: multi-value headers and query strings for REST v1 and
ALB (when the source sends them), cookies for v2 and Function URLs, base64
bodies both ways (binary responses go base64; JSON and text stay text).

One container serves one request at a time, so a database pool of one
connection is enough, and more would only hold connections the database has
to keep for every warm container: `lambda_engine_options`.

`event_like` rewrites a sample event (as its source sends it) for another
request, in the same format: for tests and local invocations.
"""

from __future__ import annotations

import copy
import os
from base64 import b64encode
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from apig_wsgi import make_lambda_handler
from flask import Flask

from .config import DEFAULT_ENGINE_OPTIONS

__all__ = [
    "LAMBDA_POOL_OPTIONS",
    "LambdaHandler",
    "event_like",
    "lambda_engine_options",
    "lambda_handler",
]

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
"""``handler(event, context) -> response``, as Lambda calls it."""

LAMBDA_POOL_OPTIONS: Mapping[str, Any] = {"pool_size": 1, "max_overflow": 0}
"""One connection per container, none beyond it."""


def lambda_engine_options(database_url: str | None) -> dict[str, Any]:
    """``SQLALCHEMY_ENGINE_OPTIONS`` on Lambda: core's, with a pool of one connection.

    SQLite (and no URL: the local SQLite default) has no such pool: only core's.
    """
    options = dict(DEFAULT_ENGINE_OPTIONS)
    if database_url and not database_url.startswith("sqlite"):
        options.update(LAMBDA_POOL_OPTIONS)
    return options


def lambda_handler(
    app_factory: Callable[..., Flask],
    *,
    env: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LambdaHandler:
    """Build ``app_factory(env=env, overrides=...)`` now and return its Lambda handler.

    ``SQLALCHEMY_ENGINE_OPTIONS`` comes from `lambda_engine_options` for the
    database the app will use (``SQLALCHEMY_DATABASE_URI`` in *overrides*, else
    the ``DATABASE_URL`` variable); a service without a database ignores it.
    *overrides* go over it.
    """
    overrides = dict(overrides or {})
    url = overrides.get("SQLALCHEMY_DATABASE_URI") or os.environ.get("DATABASE_URL")
    settings = {"SQLALCHEMY_ENGINE_OPTIONS": lambda_engine_options(url), **overrides}
    app = app_factory(env=env, overrides=settings)
    return make_lambda_handler(app, binary_support=True)


def event_like(
    sample: Mapping[str, Any],
    method: str = "GET",
    path: str = "/",
    *,
    query: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    base64: bool = False,
) -> dict[str, Any]:
    """*sample*, an event as its source sends it, rewritten for another request.

    The format stays the sample's: HTTP API v2 and Function URLs (``version``
    2.0), ALB (``requestContext.elb``; multi-value when the sample is) or REST
    v1. *query* pairs may repeat a name; *headers* are added to the sample's;
    *body* goes base64-encoded when *base64*.
    """
    event = copy.deepcopy(dict(sample))
    context = event.setdefault("requestContext", {})
    alb = "elb" in context
    lower = alb or event.get("version") == "2.0"
    added = {name.lower() if lower else name: value for name, value in (headers or {}).items()}
    grouped: dict[str, list[str]] = {}
    for name, value in query:
        grouped.setdefault(name, []).append(value)
    if event.get("version") == "2.0":
        event.update(rawPath=path, rawQueryString=urlencode(query, quote_via=quote))
        context["http"].update(method=method, path=path)
        event.pop("queryStringParameters", None)
        if grouped:  # v2 joins repeated values with commas; rawQueryString keeps them apart
            event["queryStringParameters"] = {k: ",".join(v) for k, v in grouped.items()}
        event["headers"] = {**event.get("headers", {}), **added}
    else:
        event.update(httpMethod=method, path=path)
        if alb:  # ALB passes the query on as the client encoded it
            grouped = {quote(k): [quote(v) for v in vs] for k, vs in grouped.items()}
        else:
            context.update(httpMethod=method, path=f"/{context.get('stage', 'prod')}{path}")
            event["pathParameters"] = {"proxy": path.lstrip("/")}
        empty: dict[str, Any] | None = {} if alb else None
        if "multiValueQueryStringParameters" in event:
            event["multiValueQueryStringParameters"] = grouped or empty
        if "queryStringParameters" in event or not alb:
            event["queryStringParameters"] = {k: v[-1] for k, v in grouped.items()} or empty
        if "multiValueHeaders" in event:
            multi = event["multiValueHeaders"] or {}
            event["multiValueHeaders"] = {**multi, **{k: [v] for k, v in added.items()}}
        if "headers" in event:
            event["headers"] = {**(event["headers"] or {}), **added}
    if body is None:
        event["body"] = None if not alb else ""
    else:
        event["body"] = b64encode(body).decode() if base64 else body.decode()
    event["isBase64Encoded"] = base64 and body is not None
    return event
