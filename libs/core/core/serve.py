"""Serve a service's WSGI app under gunicorn, with the project's defaults.

Each service's ``serve`` pex runs `serve`; arguments after ``--`` are gunicorn's
own and override the defaults (``--bind``, ``--workers``, ...), as does
``GUNICORN_CMD_ARGS``. Defaults: bind ``0.0.0.0:$PORT`` when ``PORT`` is set,
else ``127.0.0.1:<the service's port>``; ``WEB_CONCURRENCY`` workers (2) of the
threaded worker (`core.workers.ThreadWorker`: gunicorn's, answering what it
refuses as problem documents, with a time limit on request heads), so
keep-alive works and a slow request does not block the others; the app loaded
once in the master before the workers fork (they share its pages and start
at once; nothing in it may connect anywhere at import); no control socket
(one per machine, shared by every master); no gunicorn access log, since the
app writes JSON access records itself; a directory of its own for the
workers' metrics (`core.metrics`), in ``PROMETHEUS_MULTIPROC_DIR`` (given, it
is emptied first; else made, and removed at the end). The open-file limit is
raised to its hard limit, and a worker class's own ``default_connections``
(`core.gevent_worker.PyWSGIWorker`: 10,000) becomes ``worker_connections``,
within that limit.
"""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gunicorn.app.wsgiapp import WSGIApplication

from .workers import ThreadWorker

__all__ = ["THREADS", "WORKERS", "serve"]

WORKERS = 2
"""Worker processes, unless ``WEB_CONCURRENCY`` says otherwise."""
THREADS = 4
"""Threads per worker (gunicorn's ``gthread`` worker)."""


class _Server(WSGIApplication):
    def __init__(self, app_uri: str, defaults: Mapping[str, Any]) -> None:
        self._app_uri = app_uri
        self._defaults = defaults
        super().__init__("%(prog)s [GUNICORN OPTIONS]")

    def init(self, parser: Any, opts: Any, args: list[str]) -> dict[str, Any]:
        self.app_uri = self._app_uri
        self.cfg.set("default_proc_name", self._app_uri)
        return dict(self._defaults)


def serve(
    app_uri: str, *, port: int, threads: int = THREADS, worker_class: str | type = ThreadWorker
) -> None:
    """Run gunicorn on *app_uri* (``module:attribute``); arguments from ``sys.argv``.

    *worker_class* `core.gevent_worker.PyWSGIWorker` (or gunicorn's ``gevent``):
    one greenlet per request, for a service that mostly waits on others (the
    gateway); *threads* is then unused, and the caller must apply gevent's
    patches before calling, since the app is loaded here, in the master (see
    ``gateway_api.main``).
    """
    open_files = _raise_open_files()
    metrics_hooks = _metrics_directory()
    bind = f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else f"127.0.0.1:{port}"
    defaults = {
        "bind": [bind],
        "workers": int(os.environ.get("WEB_CONCURRENCY", WORKERS)),
        "worker_class": worker_class,
        "threads": threads,
        "preload_app": True,
        "control_socket_disable": True,
        "accesslog": None,
        "graceful_timeout": 10,
        **metrics_hooks,
    }
    connections = getattr(worker_class, "default_connections", None)
    if connections:
        # Each connection is a descriptor; keep some for upstreams and logs.
        defaults["worker_connections"] = max(100, min(connections, open_files - 500))
    try:
        _Server(app_uri, defaults).run()
    finally:  # on_exit does not run when the server fails to start
        metrics_hooks["on_exit"](None)


def _raise_open_files() -> int:
    """Raise this process's soft open-file limit to its hard one (the workers
    inherit it); return the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def _metrics_directory() -> dict[str, Any]:
    """Point prometheus-client at an empty directory for this server's
    processes, before the app (and prometheus-client) is loaded; return the
    gunicorn hooks that forget a dead worker's gauges and remove a directory
    made here."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):  # a previous run's
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)

    def child_exit(server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]

    master = os.getpid()

    def on_exit(server: Any) -> None:
        # Only the master's exit: a worker leaving (max_requests, a restart)
        # unwinds through `serve` too, since it was forked inside it.
        if not given and os.getpid() == master:
            shutil.rmtree(directory, ignore_errors=True)

    return {"child_exit": child_exit, "on_exit": on_exit}
