"""AWS Lambda events for tests and local invocations of a `core.aws_lambda` handler.

`event_like` rewrites a sample event (as its source sends it, e.g. from
``sam local generate-event``) for another request, in the same format;
`invoke` calls a handler with it and reads the answer back whatever the
format: ``(status, headers with lower-case names, JSON body or None)``.
"""

from __future__ import annotations

import copy
import json
from base64 import b64decode, b64encode
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

__all__ = ["MULTI_VALUE", "SOURCES", "event_like", "invoke", "load_event"]

SOURCES = ("rest-v1", "http-v2", "function-url", "alb", "alb-multi-value")
"""The event formats, as the sample files of a folder are named (``<source>.json``)."""
MULTI_VALUE = ("rest-v1", "http-v2", "function-url", "alb-multi-value")
"""The formats that carry a repeated query parameter or header as such."""


def load_event(folder: Path, source: str) -> dict[str, Any]:
    """The sample event ``<folder>/<source>.json``."""
    event: dict[str, Any] = json.loads((folder / f"{source}.json").read_text())
    return event


def invoke(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]], event: dict[str, Any]
) -> tuple[int, dict[str, str], Any]:
    """``handler(event)``'s status, headers (lower-case names) and JSON body (None if empty)."""
    response = handler(event, None)
    if "multiValueHeaders" in response:
        headers = {k.lower(): v[-1] for k, v in response["multiValueHeaders"].items()}
    else:  # v2 answers with lower-case names
        headers = {k.lower(): v for k, v in response["headers"].items()}
    raw = response["body"]
    body = b64decode(raw) if response["isBase64Encoded"] else raw.encode()
    return response["statusCode"], headers, json.loads(body) if body else None


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
