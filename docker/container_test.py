"""The images, run: start, serve, migrate and shut down as a container does.

Needs podman and the images (``./pants package docker:entity docker:math
docker:gateway docker:migrate``, see ``.ci/run``); without them the tests are
skipped, unless ``REQUIRE_CONTAINERS=1`` makes that a failure. Containers run
as they would under Kubernetes: host network (see docker/podman/), a
read-only root file system with a writable ``/tmp``, prod settings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from core.auth import mint_token
from core.database import scratch_database
from core.process import free_port

PODMAN = shutil.which("podman") or "/usr/bin/podman"
SECRET = "container-test-jwt-secret-" + "x" * 32
PROD = {
    "APP_ENV": "prod",
    "SECRET_KEY": "container-test-secret-key",
    "JWT_SECRET": SECRET,
    "ALLOWED_HOSTS": "127.0.0.1",  # the tests reach each container there
}
GRACE = 30
"""The pod's terminationGracePeriodSeconds (docker/k8s): a stop must end within it."""


def image(name: str) -> str:
    return f"localhost/flask-blueprint/{name}:latest"


def podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module", autouse=True)
def images() -> None:
    """Skip (or fail, under ``REQUIRE_CONTAINERS=1``) without podman and the images."""
    missing = "podman" if not os.path.exists(PODMAN) else None
    if not missing:
        names = ("entity", "math", "gateway", "migrate")
        absent = [n for n in names if podman("image", "exists", image(n)).returncode != 0]
        missing = f"the images {absent} (./pants package docker::)" if absent else None
    if not missing:
        probe = podman("run", "--rm", "--network", "host", "--entrypoint", "true", image("math"))
        if probe.returncode != 0:
            missing = (
                "a podman that can run containers (here, CONTAINERS_CONF="
                f"docker/podman/containers.conf?): {probe.stderr.strip()[-300:]}"
            )
    if missing:
        if os.environ.get("REQUIRE_CONTAINERS") == "1":
            pytest.fail(f"REQUIRE_CONTAINERS=1 but this machine lacks {missing}")
        pytest.skip(f"needs {missing}")


@dataclass
class Container:
    name: str
    port: int
    started: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, timeout: float = 30) -> float:
        """Seconds from `run` to the first 200 of ``/healthz``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - self.started
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise AssertionError(f"{self.name} never answered /healthz:\n{self.logs()}")

    def logs(self) -> str:
        result = podman("logs", self.name)
        return result.stdout + result.stderr


Run = Callable[[str, dict[str, str]], Container]


@pytest.fixture
def run() -> Iterator[Run]:
    """``run(image_name, env)`` starts a container; all are removed at the end."""
    started: list[Container] = []

    def start(name: str, env: dict[str, str]) -> Container:
        port = free_port()
        container = Container(f"test-{name}-{uuid.uuid4().hex[:8]}", port, time.monotonic())
        args = ["run", "-d", "--name", container.name, "--network", "host", "--read-only"]
        args += ["--tmpfs", "/tmp", "-e", f"PORT={port}"]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        started.append(container)
        result = podman(*args, image(name))
        assert result.returncode == 0, result.stderr
        return container

    yield start
    for container in started:
        podman("rm", "-f", "-t", "0", container.name)


@pytest.mark.parametrize("name", ["math", "gateway", "entity"])
def test_a_container_answers_healthz_soon_after_run_as_a_non_root_user(run: Run, name: str) -> None:
    env = dict(PROD)
    if name == "entity":
        env["DATABASE_URL"] = "sqlite:////tmp/entity.db"
    container = run(name, env)
    seconds = container.wait_healthy()
    print(f"{name}: first /healthz {seconds:.2f} s after run")
    assert podman("exec", container.name, "id", "-u").stdout.strip() == "10001"
    # Unpacked and compiled at build time: no pex to extract, bytecode in place.
    listing = podman("exec", container.name, "ls", "/app/lib/python3.11/site-packages/core")
    assert "__pycache__" in listing.stdout
    assert podman("exec", container.name, "ls", "/app/pex").returncode == 0
    assert "PEX_ROOT" not in podman("exec", container.name, "env").stdout
    # The docs UI ships in the image, its page and files; flask-restx's copy does not.
    assert httpx.get(f"{container.url}/", timeout=5).status_code == 200
    assert httpx.get(f"{container.url}/docs/swagger-ui-bundle.js", timeout=5).status_code == 200
    old_ui = podman("exec", container.name, "find", "/app", "-path", "*/flask_restx/static")
    assert old_ui.returncode == 0 and old_ui.stdout.strip() == ""


def test_a_service_in_prod_refuses_to_start_without_its_secrets(run: Run) -> None:
    container = run("math", {"APP_ENV": "prod"})
    code = podman("wait", container.name, timeout=60).stdout.strip()
    assert code != "0"
    assert "SECRET_KEY" in container.logs()


@dataclass
class Writers:
    """Threads creating entities until the service goes away."""

    url: str
    acknowledged: list[int] = field(default_factory=list)
    refused: int = 0
    reset: int = 0
    broken: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def write(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {mint_token(SECRET, f'w{n}', 'entity:write')}"}
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                # A new connection each time: no request is sent on a
                # connection the server may be closing.
                r = httpx.post(
                    f"{self.url}/api/entities",
                    json={"name": f"w{n}-{i}"},
                    headers=headers,
                    timeout=20,
                )
            except httpx.ConnectError:
                self.refused += 1
                if self.refused > 20:
                    return
                time.sleep(0.01)
                continue
            except httpx.ReadError as error:
                # Reset unanswered: a connection still in the listen backlog
                # when the server closed it (never read, so never written:
                # checked against the table below), or a request cut off.
                if "reset by peer" not in str(error):
                    self.broken.append(repr(error))
                self.reset += 1
                continue
            except httpx.TransportError as error:
                self.broken.append(repr(error))
                continue
            if r.status_code == 201:
                self.acknowledged.append(int(r.json()["data"]["id"]))
            else:
                self.broken.append(f"{r.status_code} {r.text[:200]}")


def test_sigterm_under_write_load_loses_no_acknowledged_write(run: Run, tmp_path: Path) -> None:
    base = os.environ.get("DATABASE_URL") or ""
    if not base.startswith("postgresql"):
        pytest.skip("the container writes to PostgreSQL; DATABASE_URL names none")
    with scratch_database(base, tmp_path, "shutdown") as url:
        migrate = podman(
            "run", "--rm", "--network", "host", "--read-only", "-e", "APP_ENV=prod",
            "-e", f"DATABASE_URL={url}", image("migrate"),
        )  # fmt: skip
        assert migrate.returncode == 0, migrate.stderr
        assert "entity: upgraded base ->" in migrate.stderr
        container = run("entity", {**PROD, "DATABASE_URL": url})
        container.wait_healthy()
        writers = Writers(container.url)
        threads = [threading.Thread(target=writers.write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        before = len(writers.acknowledged)
        signalled = time.monotonic()
        assert podman("kill", "--signal", "TERM", container.name).returncode == 0
        code = podman("wait", container.name, timeout=GRACE + 30).stdout.strip()
        stopped = time.monotonic() - signalled
        writers.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        print(
            f"entity: {before} creates acknowledged before SIGTERM, "
            f"{len(writers.acknowledged)} in all, {writers.reset} reset unanswered; "
            f"exited {code} {stopped:.2f} s after it"
        )
        assert before > 20, "the load never got going"
        assert code == "0", container.logs()
        assert stopped < GRACE
        assert writers.refused > 0, "the writers never saw the service go"
        # No request failed or timed out; a reset one never reached the app.
        assert writers.broken == []
        engine = sa.create_engine(url, poolclass=sa.NullPool)
        with engine.connect() as connection:
            stored = set(connection.scalars(sa.text("SELECT id FROM entities")))
        engine.dispose()
        assert set(writers.acknowledged) <= stored
        # In-flight requests finished: every row written was answered, so
        # no request was cut off after the app took it.
        assert len(stored) == len(writers.acknowledged)
