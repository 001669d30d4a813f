"""`ApiResponse`, what controllers return, and the envelope of every success body.

A controller returns ``ApiResponse(value, status=..., headers=...)``; `ApiFlask`
turns it into the HTTP response through `envelope`, the one place where the
body shape of DESIGN.md is built:

- one resource: ``{"data": {...}}``;
- a `Page`: ``{"data": [...], "meta": {...}, "links": {...}}`` plus the
  RFC 8288 ``Link`` and ``X-Total-Count`` headers;
- ``None`` (with 204): no body at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Response, request

__all__ = ["ApiResponse", "Page", "envelope"]

JSON_MIMETYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its items and where it sits in the whole."""

    items: Sequence[Any]
    page: int
    page_size: int
    total: int

    @property
    def last_page(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


@dataclass(slots=True)
class ApiResponse:
    """A controller's result: the value to send, its status and extra headers."""

    value: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    def to_response(self) -> Response:
        body, headers = envelope(self.value)
        headers.update(self.headers)
        if self.status in (204, 304):
            response = Response(status=self.status, headers=headers)
            del response.headers["Content-Type"]  # no body, so no media type
            return response
        return Response(
            orjson.dumps(body), status=self.status, headers=headers, mimetype=JSON_MIMETYPE
        )


def _page_urls(page_size: int) -> Callable[[int], str]:
    """This request's URL for another page: ``page``/``pageSize`` replaced,
    the other parameters kept (encoded once for all the links)."""
    kept = urlencode(
        [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "pageSize")]
    )
    prefix = f"{request.base_url}?{kept}&" if kept else f"{request.base_url}?"
    return lambda page: f"{prefix}page={page}&pageSize={page_size}"


def envelope(value: Any) -> tuple[Any, dict[str, str]]:
    """The body and headers for *value*: ``{"data": value}`` or a list page."""
    if not isinstance(value, Page):
        return {"data": value}, {}
    last, url = value.last_page, _page_urls(value.page_size)
    links: dict[str, str | None] = {
        "self": url(value.page),
        "first": url(1),
        "prev": url(value.page - 1) if value.page > 1 else None,
        "next": url(value.page + 1) if value.page < last else None,
        "last": url(last),
    }
    body = {
        "data": list(value.items),
        "meta": {"page": value.page, "pageSize": value.page_size, "total": value.total},
        "links": links,
    }
    link_header = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)
    return body, {"Link": link_header, "X-Total-Count": str(value.total)}
