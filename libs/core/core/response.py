"""`ApiResponse`, what controllers return, and the envelope of every success body.

A controller returns ``ApiResponse(value, status=..., headers=...)``; `ApiFlask`
turns it into the HTTP response through `envelope`, the one place where the
body shape of DESIGN.md is built:

- one resource: ``{"data": {...}}``;
- a `Page`: ``{"data": [...], "meta": {...}, "links": {...}}`` plus the
  RFC 8288 ``Link`` and (with an exact total) ``X-Total-Count`` headers;
- ``None`` (with 204): no body at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from flask import Response, request

__all__ = ["ApiResponse", "Page", "envelope"]

JSON_MIMETYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its items and where it sits in the whole.

    A page of `core.query.paginate` is *keyed*: its neighbours are the pages
    before its first row and after its last (``prev_cursor``,
    ``next_cursor``; None where there is none), and *page* is None when it
    was itself read by *cursor*. A page made by hand has page numbers only.
    """

    items: Sequence[Any]
    page: int | None
    page_size: int
    total: int
    total_exact: bool = True
    cursor: str | None = None
    prev_cursor: str | None = None
    next_cursor: str | None = None
    keyed: bool = False

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


def _page_urls(page_size: int) -> Callable[[str, object], str]:
    """This request's URL for another page: ``page``, ``cursor`` and
    ``pageSize`` replaced, the other parameters kept (encoded once for all
    the links): ``url("page", 2)``, ``url("cursor", token)``."""
    replaced = ("page", "pageSize", "cursor")
    kept = urlencode([(k, v) for k, v in request.args.items(multi=True) if k not in replaced])
    prefix = f"{request.base_url}?{kept}&" if kept else f"{request.base_url}?"
    return lambda key, value: f"{prefix}{key}={quote(str(value))}&pageSize={page_size}"


def _links(value: Page) -> dict[str, str | None]:
    url = _page_urls(value.page_size)
    if value.keyed:
        before = url("cursor", value.prev_cursor) if value.prev_cursor else None
        after = url("cursor", value.next_cursor) if value.next_cursor else None
    else:
        number = value.page or 1
        before = url("page", number - 1) if number > 1 else None
        after = url("page", number + 1) if number < value.last_page else None
    return {
        "self": url("page", value.page) if value.page is not None else url("cursor", value.cursor),
        "first": url("page", 1),
        "prev": before,
        "next": after,
        "last": url("page", value.last_page) if value.total_exact else None,
    }


def envelope(value: Any) -> tuple[Any, dict[str, str]]:
    """The body and headers for *value*: ``{"data": value}`` or a list page
    (``X-Total-Count`` only when its total is exact)."""
    if not isinstance(value, Page):
        return {"data": value}, {}
    links = _links(value)
    body = {
        "data": list(value.items),
        "meta": {
            "page": value.page,
            "pageSize": value.page_size,
            "total": value.total,
            "totalExact": value.total_exact,
        },
        "links": links,
    }
    headers = {"Link": ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)}
    if value.total_exact:
        headers["X-Total-Count"] = str(value.total)
    return body, headers
