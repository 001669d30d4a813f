"""Entity tags and conditional requests (RFC 9110 section 13).

`check_if_match` guards writes: a request whose ``If-Match`` names no current
tag gets 412, before anything changes. `not_modified` answers ``If-None-Match``
on reads (weak comparison, as the RFC says for GET).
"""

from __future__ import annotations

from flask import request

from .errors import PreconditionFailed

__all__ = ["check_if_match", "make_etag", "not_modified"]


def make_etag(*parts: object) -> str:
    """A strong entity tag, quoted, from the parts that identify a version."""
    return '"' + "-".join(str(p) for p in parts) + '"'


def _opaque(etag: str) -> str:
    return etag.strip('"')


def check_if_match(current: str) -> None:
    """Raise 412 if the request's ``If-Match`` does not name *current*."""
    if_match = request.if_match
    if not request.headers.get("If-Match"):
        return
    if if_match.star_tag or if_match.contains(_opaque(current)):
        return
    raise PreconditionFailed(
        "The resource has changed since you read it (If-Match names no current ETag)."
    )


def not_modified(current: str) -> bool:
    """Whether ``If-None-Match`` names *current* (answer 304)."""
    if_none_match = request.if_none_match
    return bool(if_none_match) and (
        if_none_match.star_tag or if_none_match.contains_weak(_opaque(current))
    )
