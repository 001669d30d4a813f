"""The running stack (``python -m stack.run``), shared by the tests of this folder.

With ``STACK_URL`` set, the tests run against that gateway instead (the
containers under Compose, in CI), whose services must verify tokens with
``STACK_JWT_SECRET`` and whose gateway must allow the web origin `APP_ORIGIN`
(``CORS_ORIGINS``).
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import IO

import httpx
import pytest

from core.process import wait_until_healthy
from stack import run as stack_run

# The stack hands JWT_SECRET to every service: tokens minted with it work.
SECRET = os.environ.get("STACK_JWT_SECRET") or "stack-test-secret-" + "x" * 32
APP_ORIGIN = "http://localhost:5173"
"""The one web origin the stack's gateway lets call it: a web app's dev server
(the browser test plays its page; nothing listens there)."""


def gateway_url(output: IO[bytes], process: subprocess.Popen[bytes], timeout: float) -> str:
    """The URL the stack prints for its gateway (``stack: gateway  http://...``),
    once every service is up."""

    def printed() -> bytes:  # pread: the stack shares the file's offset, leave it
        return os.pread(output.fileno(), os.fstat(output.fileno()).st_size, 0)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        found = re.search(rb"^stack: gateway +(http://\S+)", printed(), re.MULTILINE)
        if found:
            return found.group(1).decode()
        time.sleep(0.1)
    log = printed().decode(errors="replace")
    raise AssertionError(f"the stack printed no gateway URL (exit {process.poll()}):\n{log}")


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[str]:
    """The stack's gateway URL; on exit the stack must stop cleanly on SIGTERM."""
    if os.environ.get("STACK_URL"):
        yield os.environ["STACK_URL"].rstrip("/")
        return
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "PORT": "0",  # a free port the stack binds itself and prints
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "JWT_SECRET": SECRET,
        "CORS_ORIGINS": APP_ORIGIN,
    }
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [sys.executable, "-m", stack_run.__name__], env=env, stdout=output, stderr=output
        )
        url = ""
        try:
            url = gateway_url(output, process, timeout=60)
            wait_until_healthy(url, process, timeout=10)
            for _ in range(100):  # the gateway is last to start, but make sure
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
                time.sleep(0.1)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
            output.seek(0)
            log = output.read().decode(errors="replace")
            assert code == 0, log
            assert "stack: stopping" in log
            if url:
                with pytest.raises(httpx.ConnectError):
                    httpx.get(f"{url}/healthz", timeout=2)
