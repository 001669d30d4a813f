"""CORS: which web pages, by origin, may call an app from a browser.

``CORS_ORIGINS`` lists the origins allowed (``https://app.example.com``,
comma or space separated; ``*`` for any); unset or empty, no page of another
origin may (the browser gets no ``Access-Control-*`` header), which is the
default but in ``dev``, where any origin may. A request from an allowed origin
gets ``Access-Control-Allow-Origin`` and the headers a page may read
(`EXPOSED`); a preflight (``OPTIONS`` with ``Access-Control-Request-Method``)
is answered here, 204, with the methods (`METHODS`) and request headers
(`ALLOWED`) an API of this project takes, and ``CORS_MAX_AGE`` seconds to
keep that. No credentials (cookies) are allowed: a token travels in
``Authorization``, which is allowed as any other header.

The rules are flask-cors's (`flask_cors.core`), applied by `Cors`, a WSGI
middleware outside everything else an app has: Flask's routes and, at the
gateway, the proxy, so the gateway answers for every service behind it and
replaces any ``Access-Control-*`` header a service sent. A preflight reaches
neither route nor service.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask_cors.core import get_cors_headers, serialize_options
from werkzeug.datastructures import EnvironHeaders

if TYPE_CHECKING:
    from _typeshed import wsgi  # pants: no-infer-dep

__all__ = ["ALLOWED", "EXPOSED", "METHODS", "Cors", "parse_origins"]

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
"""The methods a page may send."""
ALLOWED = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Request-ID",
)
"""The request headers a page may send, beside those every request may."""
EXPOSED = ("ETag", "Link", "Location", "Retry-After", "X-Request-ID", "X-Total-Count")
"""The response headers a page may read, beside those every page may."""

_ORIGIN = re.compile(r"https?://[^\s/?#@,]+", re.ASCII | re.IGNORECASE)


def parse_origins(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """The ``CORS_ORIGINS`` setting: ``None`` when no origin is allowed, ``("*",)``
    for any, else each origin (``scheme://host[:port]``, as a browser sends it);
    `ValueError` names an entry that is not one (a path, a trailing slash)."""
    if value is None:
        return None
    items = re.split(r"[\s,]+", value) if isinstance(value, str) else list(value)
    origins = []
    for item in items:
        text = item.strip() if isinstance(item, str) else None
        if text == "":
            continue
        if text is None or not (text == "*" or _ORIGIN.fullmatch(text)):
            raise ValueError(
                f"CORS_ORIGINS: {item!r} is no origin (scheme://host[:port], no path; or *)"
            )
        origins.append(text)
    if "*" in origins and len(origins) > 1:
        raise ValueError("CORS_ORIGINS: * allows every origin; name no other with it")
    return tuple(dict.fromkeys(origins)) or None


class Cors:
    """The WSGI middleware: *app* answered for the *origins* of `parse_origins`."""

    def __init__(self, app: wsgi.WSGIApplication, origins: tuple[str, ...], max_age: int) -> None:
        self.app = app
        anyone = origins == ("*",)
        self.options = serialize_options(
            {
                # Each origin matched whole, case-insensitively (flask-cors
                # would read some origins, "[::1]" ones, as patterns).
                "origins": "*" if anyone else [_exactly(o) for o in origins],
                "send_wildcard": anyone,
                "methods": METHODS,
                "allow_headers": ALLOWED,
                "expose_headers": EXPOSED,
                "max_age": max_age,
                "vary_header": True,
            }
        )
        # What a page may be told differs by origin unless every origin may.
        self.vary = not anyone

    def __call__(
        self, environ: wsgi.WSGIEnvironment, start_response: wsgi.StartResponse
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        if "HTTP_ORIGIN" not in environ:
            return self.app(environ, self._varied(start_response, []))
        cors = get_cors_headers(self.options, EnvironHeaders(environ), method)
        added = [(name, str(value)) for name, value in cors.items(multi=True) if name != "Vary"]
        if method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            headers = [*added, ("Content-Length", "0")]
            if self.vary:
                headers.append(("Vary", "Origin"))
            start_response("204 No Content", headers)
            return []
        return self.app(environ, self._varied(start_response, added))

    def _varied(self, start_response: wsgi.StartResponse, added: list[tuple[str, str]]) -> Any:
        """*start_response* with the app's ``Access-Control-*`` headers replaced
        by *added*, and ``Origin`` in ``Vary`` where the answer depends on it."""

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            if self.vary:
                vary = [v for k, v in kept if k.lower() == "vary"]
                kept = [(k, v) for k, v in kept if k.lower() != "vary"]
                names = [n.strip() for v in vary for n in v.split(",") if n.strip()]
                if not any(n.lower() == "origin" for n in names):
                    names.append("Origin")
                kept.append(("Vary", ", ".join(names)))
            return start_response(status, [*kept, *added], exc_info)

        return start


def _exactly(origin: str) -> re.Pattern[str]:
    return re.compile(re.escape(origin) + r"\Z", re.IGNORECASE)
