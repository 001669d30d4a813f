"""Service processes: start a service's package under gunicorn, wait, stop.

Used by the local stack and by tests that need real HTTP. Stopping sends
SIGTERM and waits; a gunicorn master that has not exited is signalled again,
then killed, so nothing is left behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO

from gunicorn.config import Backlog

__all__ = [
    "ServiceError",
    "Started",
    "free_port",
    "listening_socket",
    "service_command",
    "start_service",
    "stop_service",
    "wait_until_healthy",
]


class ServiceError(RuntimeError):
    """A service did not start, or did not stop."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now: an address that
    refuses. A server takes its port from `start_service` (port 0) instead."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_command(package: str) -> list[str]:
    """The command that runs *package*'s serve main on this interpreter
    (``<package>:main``, as its ``serve`` pex does); gunicorn's options follow."""
    return [sys.executable, "-c", f"import {package}; {package}.main()"]


@dataclass(frozen=True)
class Started:
    """A service started by `start_service`: its gunicorn master and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    url: str


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to *host*:*port* (0: a free port) and listening with
    gunicorn's backlog: gunicorn keeps the backlog of a socket it is handed
    already listening, and Python's default (128) would drop connections
    that arrive in bursts."""
    return socket.create_server((host, port), backlog=Backlog.default)


def start_service(
    package: str,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = (),
    output: IO[bytes] | None = None,
    new_session: bool = False,
) -> Started:
    """Run *package*'s ``main`` (its serve main: ``entity_api``, ``gateway_api``)
    on *host*:*port* (0: a free port), on this interpreter and its path, as the
    package's ``serve`` pex runs it.

    The port is bound here, before the server starts, and handed to gunicorn
    as ``--bind fd://N``: a port in use fails here (`OSError`), and no other
    process can take a free port between its choice and the server's start,
    so what answers on the returned URL is this server. Its output goes to
    *output* (a file: a pipe nobody reads would block it), or to this
    process's own; *new_session* puts it and its workers in a process group
    of their own (``os.killpg``).
    """
    with listening_socket(host, port) as listener:
        bound = listener.getsockname()[1]
        fd = listener.fileno()
        process = subprocess.Popen(
            [*service_command(package), "--bind", f"fd://{fd}", *args],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            pass_fds=(fd,),
            start_new_session=new_session,
        )
    # Closed here: only the server holds the port, so it refuses once the server is gone.
    url_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return Started(process, bound, f"http://{url_host}:{bound}")


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Wait for ``<url>/healthz`` to answer 200; raise `ServiceError` if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None:
            raise ServiceError(f"{url}: the process exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise ServiceError(f"{url}: not healthy after {timeout} s")
        time.sleep(0.1)


def stop_service(process: subprocess.Popen[bytes], timeout: float = 15) -> int:
    """SIGTERM, then again, then SIGKILL; return the exit code."""
    for _ in range(2):
        if process.poll() is not None:
            break
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout / 2)
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        process.kill()
        process.wait()
    return process.returncode
