"""The hosts an app answers for: the ``ALLOWED_HOSTS`` setting and its one check.

The host a request names (its ``Host`` header, or the ``X-Forwarded-Host`` of
a trusted proxy, see ``TRUSTED_PROXY_HOPS`` in `core.app`) is the host of
every URL its answer carries: ``Location``, list links, and at the gateway
the rewritten ``Location`` and the ``X-Forwarded-Host`` sent upstream. So a
host outside ``ALLOWED_HOSTS`` is refused with a 400 problem before anything
uses it: by `init_allowed_hosts` for Flask's routes, by the gateway's proxy
(`check_host`) for the requests that never enter Flask.

An entry is a name (``api.example.com``), an IPv4 address, a bracketed IPv6
address (``[::1]``), or ``.example.com`` for that domain and every subdomain
(as in werkzeug). Names compare case-insensitively and without the port;
non-ASCII names are written as their IDNA form. ``None`` (dev and test):
any host. prod refuses to start without the setting (`core.config`).

Not Flask's ``TRUSTED_HOSTS``: werkzeug's matching (3.1) is case-sensitive
and cannot match an IPv6 address, so an ``API.example.com`` or ``[::1]``
client would be refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Flask, request

from .errors import BadRequest

__all__ = ["check_host", "host_is_allowed", "init_allowed_hosts", "parse_allowed_hosts"]

AllowedHosts = tuple[str, ...] | None

_NAME = r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?|\[[0-9a-f:.]+\]"
_ENTRY = re.compile(rf"\.?(?:{_NAME})", re.ASCII)
# A Host value: a name or an address, and a port.
_HOST = re.compile(rf"(?P<name>{_NAME})(?::[0-9]{{1,5}})?", re.ASCII | re.IGNORECASE)


def parse_allowed_hosts(value: str | Iterable[str] | None) -> AllowedHosts:
    """The setting as entries to match: from a comma- or space-separated text or a list.

    ``None`` stays ``None`` (any host); `ValueError` names an entry that is no
    host name (a port, a scheme, a path, ``*``) or an empty list.
    """
    if value is None:
        return None
    items = re.split(r"[\s,]+", value) if isinstance(value, str) else list(value)
    entries = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"ALLOWED_HOSTS: {item!r} is no host name")
        if not item.strip():
            continue
        item = item.strip()
        dot = "." if item.startswith(".") else ""
        try:
            entry = dot + item.removeprefix(dot).encode("idna").decode("ascii").lower()
        except UnicodeError:
            entry = ""
        if _ENTRY.fullmatch(entry) is None:
            raise ValueError(
                f"ALLOWED_HOSTS: {item!r} is no host name (name, address or .domain, no port)"
            )
        entries.append(entry.rstrip("."))
    if not entries:
        raise ValueError("ALLOWED_HOSTS names no host")
    return tuple(dict.fromkeys(entries))


def host_is_allowed(host: str, allowed: AllowedHosts) -> bool:
    """Whether *host* (``name[:port]``, as werkzeug's ``get_host`` gives it) is allowed."""
    if allowed is None:
        return True
    match = _HOST.fullmatch(host)
    if match is None:
        return False
    name = match["name"].lower().rstrip(".")
    return any(
        name == entry or (entry.startswith(".") and (name == entry[1:] or name.endswith(entry)))
        for entry in allowed
    )


def check_host(host: str, allowed: AllowedHosts) -> str:
    """*host* when it is allowed; else the 400 every app answers."""
    if not host_is_allowed(host, allowed):
        raise BadRequest("The request's host is not one this server answers for.")
    return host


def init_allowed_hosts(app: Flask) -> None:
    """Refuse requests for a host outside ``ALLOWED_HOSTS``, before any route runs.

    Call it after `core.log.init_request_id`: the problem carries the request id.
    """
    allowed: AllowedHosts = app.config["ALLOWED_HOSTS"]
    if allowed is None:
        return

    @app.before_request
    def _check_host() -> None:
        check_host(request.host, allowed)
