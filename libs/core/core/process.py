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
from typing import IO

__all__ = [
    "ServiceError",
    "free_port",
    "service_command",
    "start_service",
    "stop_service",
    "wait_until_healthy",
]


class ServiceError(RuntimeError):
    """A service did not start, or did not stop."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_command(package: str) -> list[str]:
    """The command that runs *package*'s serve main on this interpreter
    (``<package>:main``, as its ``serve`` pex does); gunicorn's options follow."""
    return [sys.executable, "-c", f"import {package}; {package}.main()"]


def start_service(
    package: str,
    *,
    port: int,
    host: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = (),
    output: IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Run *package*'s ``main`` (its serve main: ``entity_api``, ``gateway_api``)
    with ``--bind host:port``, on this interpreter and its path, as the
    package's ``serve`` pex runs it.

    Its output goes to *output* (a file: a pipe nobody reads would block it),
    or to this process's own.
    """
    return subprocess.Popen(
        [*service_command(package), "--bind", f"{host}:{port}", *args],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})},
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
    )


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
