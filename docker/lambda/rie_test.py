"""The built Lambda zips under AWS's Runtime Interface Emulator (RIE), as Lambda runs them.

``pants package services/entity:lambda services/math:lambda`` writes the zips;
``docker/lambda/install-rie`` installs the emulator. Give their places as
``LAMBDA_ZIP_DIR`` (the dist/ folder) and ``AWS_LAMBDA_RIE`` (the binary),
both absolute; without them the tests skip, or fail when ``REQUIRE_CONTAINERS=1``.

Each zip is unpacked as Lambda does (its task root), and the emulator starts
``python -S -m awslambdaric lambda_function.handler`` there: ``-S`` leaves out
this interpreter's site-packages, so every import but awslambdaric (the
runtime's own, as on Lambda, linked into a folder of its own) comes from the
zip. The time from starting the emulator to the first answer is the cold
start; the emulator's ``INIT REPORT`` is the part spent importing the handler
(building the app). Both are printed (run with ``-s`` to see them). The
emulator reads ``LOG_LEVEL`` itself: leave it unset, or its INIT lines go.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from alembic import command

from core.auth import DEV_JWT_SECRET, mint_token
from core.lambda_events import load_event
from core.process import free_port
from entity_migrations import line as entity_line

EVENTS = Path(__file__).resolve().parent / "events"
HANDLER = "lambda_function.handler"
INVOKE = "/2015-03-31/functions/function/invocations"
RUNTIME = ("awslambdaric", "simplejson", "snapshot-restore-py")
PROBLEM = "application/problem+json"


def required(name: str) -> Path:
    value = os.environ.get(name, "")
    reason = None
    if not value:
        reason = f"{name} is not set"
    elif not os.path.isabs(value) or not os.path.exists(value):
        reason = f"{name}={value} is not an absolute path that exists"
    if reason:
        message = (
            f"{reason}: run `pants package services/entity:lambda services/math:lambda` and "
            "docker/lambda/install-rie, then set LAMBDA_ZIP_DIR (dist/) and AWS_LAMBDA_RIE."
        )
        if os.environ.get("REQUIRE_CONTAINERS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return Path(value)


@pytest.fixture(scope="module")
def rie() -> Path:
    return required("AWS_LAMBDA_RIE")


@pytest.fixture(scope="module")
def zips() -> Path:
    return required("LAMBDA_ZIP_DIR")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """awslambdaric and its dependencies alone, linked from this interpreter's packages."""
    folder = tmp_path_factory.mktemp("runtime")
    for name in RUNTIME:
        distribution = importlib.metadata.distribution(name)
        for top in {Path(str(file)).parts[0] for file in distribution.files or ()}:
            source = Path(str(distribution.locate_file(top)))
            if source.exists() and not (folder / top).exists() and top != "..":
                (folder / top).symlink_to(source)
    return folder


def event(name: str, **changes: Any) -> dict[str, Any]:
    return {**load_event(EVENTS, name), **changes}


def post(url: str, payload: Any, timeout: float = 60) -> dict[str, Any]:
    data = json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


class Emulator:
    """The emulator running one unpacked zip; ``invoke`` sends it an event."""

    def __init__(self, url: str, output: IO[bytes], started: float) -> None:
        self.url, self.output, self.started = url, output, started
        self.cold_start: float | None = None

    def invoke(self, payload: Any) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = post(self.url + INVOKE, payload)
                break
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        if self.cold_start is None:
            self.cold_start = time.monotonic() - self.started
        return answer

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def init_durations(self) -> dict[str, float | None]:
        """The emulator's figures: ``INIT REPORT`` (the init phase), and the first
        ``REPORT``'s ``Init Duration`` (the emulator puts its own bookkeeping
        there, well under a millisecond) and ``Duration`` (init and invoke)."""
        log = self.log()
        init = re.search(r"INIT REPORT\(durationMs: ([0-9.]+)\)", log)
        report = re.search(r"Init Duration: ([0-9.]+) ?ms\s+Duration: ([0-9.]+) ?ms", log)
        return {
            "init_phase_ms": float(init[1]) if init else None,
            "report_init_duration_ms": float(report[1]) if report else None,
            "first_invoke_duration_ms": float(report[2]) if report else None,
        }


@contextlib.contextmanager
def emulating(rie: Path, zip_path: Path, runtime: Path, env: dict[str, str]) -> Iterator[Emulator]:
    if not zip_path.exists():
        pytest.fail(f"{zip_path} is missing: `pants package` the Lambda targets first.")
    with tempfile.TemporaryDirectory() as task, tempfile.TemporaryFile() as output:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(task)
        port, api_port = free_port(), free_port()
        command = [
            str(rie),
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{port}",
            "--runtime-api-address",
            f"127.0.0.1:{api_port}",
            sys.executable,
            "-S",
            "-m",
            "awslambdaric",
            HANDLER,
        ]
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": os.pathsep.join([task, str(runtime)]),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAMBDA_TASK_ROOT": task,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_LAMBDA_FUNCTION_NAME": "function",
            "AWS_REGION": "us-east-1",
            "TZ": "UTC",
            **env,
        }
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=task,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        emulator = Emulator(f"http://127.0.0.1:{port}", output, started)
        try:
            yield emulator
        except BaseException:
            print(emulator.log())
            raise
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def report(name: str, emulator: Emulator, extra: dict[str, Any] | None = None) -> None:
    """Print the cold start: emulator start to first answer, and the init the emulator saw."""
    assert emulator.cold_start is not None
    figures = {
        "cold_start_ms": round(emulator.cold_start * 1000),
        **emulator.init_durations(),
        **(extra or {}),
    }
    print(f"\n{name} under the RIE: {json.dumps(figures)}")


def body(answer: dict[str, Any]) -> Any:
    assert answer["isBase64Encoded"] is False
    return json.loads(answer["body"])


def test_math_zip(rie: Path, zips: Path, runtime: Path) -> None:
    zip_path = zips / "services.math" / "lambda.zip"
    with emulating(rie, zip_path, runtime, {"APP_ENV": "test"}) as emulator:
        answer = emulator.invoke(event("http-v2"))  # GET /api/math/sum?a=40&b=2
        assert answer["statusCode"] == 200, answer
        assert body(answer) == {"data": {"result": 42}}
        started = time.monotonic()
        warm = emulator.invoke(event("rest-v1"))
        warm_ms = round((time.monotonic() - started) * 1000, 1)
        assert warm["statusCode"] == 200 and body(warm) == {"data": {"result": 42}}
        bad = event(
            "rest-v1",
            queryStringParameters={"a": "x", "b": "2"},
            multiValueQueryStringParameters={"a": ["x"], "b": ["2"]},
        )
        answer = emulator.invoke(bad)
        assert answer["statusCode"] == 400
        assert answer["multiValueHeaders"]["Content-Type"] == [PROBLEM]
        assert body(answer)["errors"] == [{"parameter": "a", "detail": "Not a valid integer."}]
        answer = emulator.invoke(event("alb", queryStringParameters={"a": "1", "b": "2"}))
        assert answer["statusCode"] == 200 and body(answer) == {"data": {"result": 3}}
        answer = emulator.invoke(event("function-url"))
        assert answer["statusCode"] == 200 and body(answer) == {"data": {"result": 42}}
        report("math", emulator, {"warm_invoke_ms": warm_ms})


def test_entity_zip(rie: Path, zips: Path, runtime: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'entity.db'}"
    command.upgrade(entity_line.make_config(url), "head")
    token = mint_token(DEV_JWT_SECRET, "lambda-user", "entity:read entity:write")
    headers = {
        **event("function-url")["headers"],
        "authorization": f"Bearer {token}",
        "content-type": "application/json",
        "host": "abc.lambda-url.us-east-1.on.aws",
    }
    v2 = event("function-url")
    create = {
        **v2,
        "rawPath": "/api/entities",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            **v2["requestContext"],
            "http": {**v2["requestContext"]["http"], "method": "POST", "path": "/api/entities"},
        },
        "body": "eyJuYW1lIjogIk9uIHRoZSBlbXVsYXRvciJ9",  # {"name": "On the emulator"}
        "isBase64Encoded": True,
    }
    create.pop("queryStringParameters")
    env = {"DATABASE_URL": url, "APP_ENV": "test"}
    with emulating(rie, zips / "services.entity" / "lambda.zip", runtime, env) as emulator:
        answer = emulator.invoke(create)
        assert answer["statusCode"] == 201, answer
        entity = body(answer)["data"]
        assert entity["name"] == "On the emulator" and entity["ownerId"] == "lambda-user"
        assert answer["headers"]["location"] == (
            f"https://abc.lambda-url.us-east-1.on.aws/api/entities/{entity['id']}"
        )
        listing = {
            **create,
            "httpMethod": "GET",
            "rawQueryString": f"filter%5Bid%5D%5Bin%5D={entity['id']}",
            "body": None,
            "isBase64Encoded": False,
        }
        listing["requestContext"] = {
            **create["requestContext"],
            "http": {**create["requestContext"]["http"], "method": "GET"},
        }
        answer = emulator.invoke(listing)
        assert answer["statusCode"] == 200, answer
        assert [e["id"] for e in body(answer)["data"]] == [entity["id"]]
        invalid = {**create, "body": '{"name": ""}', "isBase64Encoded": False}
        answer = emulator.invoke(invalid)
        assert answer["statusCode"] == 422
        assert answer["headers"]["content-type"] == PROBLEM
        assert body(answer)["errors"][0]["pointer"] == "/name"
        report("entity", emulator)
