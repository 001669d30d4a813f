"""Request ids and structured (JSON) logs.

Every request gets an id: the client's ``X-Request-ID`` when it is well formed
(1-128 characters of ``A-Z a-z 0-9 . _ : -``), a fresh one otherwise. It is
kept in ``flask.g.request_id``, returned in the response header, put in every
log record written during the request, and in every problem document.

Logs are one JSON object per line on stderr; each request writes one access
record (logger ``core.access``) with its method, path, status and duration.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

__all__ = [
    "REQUEST_ID_HEADER",
    "init_logging",
    "init_request_id",
    "is_valid_request_id",
    "log_access",
    "request_id_for",
]

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

access_log = logging.getLogger("core.access")


def is_valid_request_id(value: str | None) -> bool:
    return value is not None and _REQUEST_ID.fullmatch(value) is not None


def request_id_for(incoming: str | None) -> str:
    """The request's id: *incoming* (the client's) when well formed, else a fresh one."""
    if incoming is not None and is_valid_request_id(incoming):
        return incoming
    return uuid.uuid4().hex


def log_access(
    method: str,
    path: str,
    status: int,
    started: float | None,
    remote_addr: str | None,
    request_id: str | None,
) -> None:
    """Write the access record of one request (*started*: its `time.perf_counter`)."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "request",
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": (
                    round((time.perf_counter() - started) * 1000, 3) if started else None
                ),
                "remote_addr": remote_addr,
                "request_id": request_id,
            },
        )


class _RequestIdFilter(logging.Filter):
    """Adds the current request's id to records that do not carry one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and has_request_context():
            record.request_id = g.get("request_id")
        return True


def init_logging(level: str | int) -> None:
    """Send this process's logs to stderr as JSON lines (once per process)."""
    root = logging.getLogger()
    if not any(getattr(h, "_core_json", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger", "asctime": "time"},
            )
        )
        handler.addFilter(_RequestIdFilter())
        handler._core_json = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)


def init_request_id(app: Flask) -> None:
    """Read or make the request id, return it, and log each request."""

    @app.before_request
    def _start() -> None:
        g.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        log_access(
            request.method,
            request.path,
            response.status_code,
            g.get("request_started"),
            request.remote_addr,
            request_id,
        )
        return response
