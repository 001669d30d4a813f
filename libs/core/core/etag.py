"""Entity tags and conditional requests (RFC 9110 section 13).

`check_preconditions` guards writes to an existing resource: 412, before
anything changes, when ``If-Match`` names no current tag or when
``If-None-Match`` names it (or is ``*``). `not_modified` answers
``If-None-Match`` on reads (weak comparison, as the RFC says for GET).
"""

from __future__ import annotations

from flask import request

from .errors import PreconditionFailed

__all__ = ["check_preconditions", "make_etag", "not_modified"]


def make_etag(*parts: object) -> str:
    """A strong entity tag, quoted, from the parts that identify a version."""
    return '"' + "-".join(str(p) for p in parts) + '"'


def _opaque(etag: str) -> str:
    return etag.strip('"')


def check_preconditions(current: str) -> None:
    """Raise 412 unless the request's conditions hold for a resource tagged *current*."""
    if "If-Match" in request.headers:
        if_match = request.if_match
        if not (if_match.star_tag or if_match.contains(_opaque(current))):
            raise PreconditionFailed(
                "The resource has changed since you read it (If-Match names no current ETag)."
            )
    if "If-None-Match" in request.headers and not_modified(current):
        raise PreconditionFailed("The resource exists in the version If-None-Match names.")


def not_modified(current: str) -> bool:
    """Whether ``If-None-Match`` names *current* (answer 304)."""
    if_none_match = request.if_none_match
    return bool(if_none_match) and (
        if_none_match.star_tag or if_none_match.contains_weak(_opaque(current))
    )
