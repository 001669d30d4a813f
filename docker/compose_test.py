"""The Compose files, checked without running them (CI also runs them: .ci/run).

compose.yaml must be a valid Compose file with no secret values that runs
every deployable of the registry (deployables.py), and nothing else of ours,
wired as the registry says; compose.host.yaml adapts it to host networking
only. The checks are in `docker.compose_checks`; each is also run on the files
broken in the way it is for, so that every check is known to fail when it should.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.registry import Registry, read
from deployables import deployables
from docker.compose_checks import (
    CHECKS,
    HERE,
    Stack,
    check_compose_schema,
    read_stack,
    secret_values,
)

REGISTRY = read(deployables())


def stack() -> Stack:
    """docker/'s Compose files, freshly read (the tests break their copy)."""
    return read_stack(HERE)


def problems(found: Stack, registry: Registry = REGISTRY) -> dict[str, list[str]]:
    return {name: check(found, registry) for name, check in CHECKS.items()}


def test_compose_yaml_is_a_valid_compose_file() -> None:
    result = check_compose_schema(HERE / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  web:\n    image: 1\n    depends_on: 7\n")
    assert check_compose_schema(broken).returncode != 0


@pytest.mark.parametrize("check", CHECKS)
def test_the_compose_files_pass(check: str) -> None:
    assert CHECKS[check](stack(), REGISTRY) == []


def test_secret_values_are_found() -> None:
    assert secret_values({"services": {"x": {"environment": {"SECRET_KEY": "dev"}}}})
    assert not secret_values({"services": {"x": {"environment": {"SECRET_KEY": "${SECRET_KEY}"}}}})


@pytest.mark.parametrize("name", list(REGISTRY))
def test_a_deployable_the_compose_file_forgets_is_reported(name: str) -> None:
    found = stack()
    del found.base["services"][name]
    assert any(name in problem for problem in CHECKS["images"](found, REGISTRY))


@pytest.mark.parametrize("name", [d.name for d in REGISTRY.services])
def test_a_service_the_gateway_forgets_is_reported(name: str) -> None:
    found = stack()
    url = REGISTRY[name].url_setting
    del found.base["services"]["gateway"]["environment"][url]
    del found.host["services"]["gateway"]["environment"][url]
    assert CHECKS["routes"](found, REGISTRY)
    assert CHECKS["host network"](found, REGISTRY)


def test_a_service_that_calls_another_gets_its_url_and_waits_for_it() -> None:
    """With math calling entity, math needs ENTITY_URL (both files) and entity healthy."""
    entries = deployables()
    entries["math"] = {**entries["math"], "calls": ["entity"]}
    calling = read(entries)
    found = stack()
    of_math = [p for p in CHECKS["routes"](found, calling) if p.startswith("math:")]
    assert len(of_math) == 2, of_math  # no URL, no wait
    assert any(p.startswith("math:") for p in CHECKS["host network"](found, calling))
    math = found.base["services"]["math"]
    math["environment"]["ENTITY_URL"] = "${ENTITY_URL:-http://entity:8001}"
    math["depends_on"] = {"entity": {"condition": "service_healthy"}}
    found.host["services"]["math"]["environment"] = {
        "ENTITY_URL": "http://127.0.0.1:${ENTITY_PORT:-8001}"
    }
    assert problems(found, calling) == {name: [] for name in CHECKS}
    assert CHECKS["routes"](found, REGISTRY)  # and math calls nothing in the registry


def _services(found: Stack) -> dict[str, dict[str, object]]:
    services: dict[str, dict[str, object]] = found.base["services"]
    return services


def _env(found: Stack, name: str) -> dict[str, object]:
    env: dict[str, object] = found.base["services"][name]["environment"]
    return env


def _waits(found: Stack, name: str) -> dict[str, object]:
    waits: dict[str, object] = found.base["services"][name]["depends_on"]
    return waits


def _stranger(found: Stack) -> None:
    _services(found)["stats"] = {"image": "flask-blueprint/stats:latest"}


# (the check, how it is broken)
BREAKAGES: dict[str, tuple[str, Callable[[Stack], object]]] = {
    "a deployable left out": ("images", lambda s: _services(s).pop("math")),
    "an image of ours not in the registry": ("images", _stranger),
    "an image not tagged latest": (
        "images",
        lambda s: _services(s)["entity"].update(image="flask-blueprint/entity:1.0"),
    ),
    "a port not the registry's": ("ports", lambda s: _env(s, "math").update(PORT=8080)),
    "a port the host network cannot move": (
        "ports",
        lambda s: _env(s, "math").update(PORT="${PORT:-8002}"),
    ),
    "the gateway published on another port": (
        "ports",
        lambda s: _services(s)["gateway"].update(ports=["8000:9000"]),
    ),
    "not prod": ("settings", lambda s: _env(s, "math").update(APP_ENV="dev")),
    "no healthcheck": ("settings", lambda s: _services(s)["math"].pop("healthcheck")),
    "a service trusting no proxy": (
        "settings",
        lambda s: _env(s, "entity").pop("TRUSTED_PROXY_HOPS"),
    ),
    "an app without ALLOWED_HOSTS": ("settings", lambda s: _env(s, "gateway").pop("ALLOWED_HOSTS")),
    "public hosts with a default": (
        "settings",
        lambda s: _env(s, "math").update(
            ALLOWED_HOSTS="${ALLOWED_HOSTS:-localhost},math,127.0.0.1"
        ),
    ),
    "a service not allowing its own name": (
        "settings",
        lambda s: _env(s, "note").update(ALLOWED_HOSTS="${ALLOWED_HOSTS:?x},entity,127.0.0.1"),
    ),
    "a healthcheck on a host not allowed": (
        "settings",
        lambda s: _env(s, "entity").update(ALLOWED_HOSTS="${ALLOWED_HOSTS:?x},entity"),
    ),
    "a restarted job": ("settings", lambda s: _services(s)["migrate"].update(restart="always")),
    "a database service without DATABASE_URL": (
        "databases",
        lambda s: _env(s, "entity").pop("DATABASE_URL"),
    ),
    "a service without tables given DATABASE_URL": (
        "databases",
        lambda s: _env(s, "math").update(DATABASE_URL="${DATABASE_URL}"),
    ),
    "a service not waiting for the migrations": (
        "databases",
        lambda s: _waits(s, "entity").pop("migrate"),
    ),
    "a service started when the migrations start": (
        "databases",
        lambda s: _waits(s, "entity").update(migrate={"condition": "service_started"}),
    ),
    "the migrations before PostgreSQL": ("databases", lambda s: _waits(s, "migrate").clear()),
    "the gateway without a service's URL": ("routes", lambda s: _env(s, "gateway").pop("MATH_URL")),
    "the gateway on a service's wrong port": (
        "routes",
        lambda s: _env(s, "gateway").update(MATH_URL="${MATH_URL:-http://math:9000}"),
    ),
    "the gateway routing to no service": (
        "routes",
        lambda s: _env(s, "gateway").update(STATS_URL="http://stats:8009"),
    ),
    "a service reaching one it does not call": (
        "routes",
        lambda s: _env(s, "math").update(ENTITY_URL="http://entity:8001"),
    ),
    "the gateway not waiting for a service": ("routes", lambda s: _waits(s, "gateway").pop("math")),
    "a container off the host network": (
        "host network",
        lambda s: s.host["services"]["math"].pop("network_mode"),
    ),
    "PostgreSQL bundled on the host network": (
        "host network",
        lambda s: s.host["services"]["postgres"].pop("profiles"),
    ),
    "the gateway to a service's container name on the host network": (
        "host network",
        lambda s: s.host["services"]["gateway"]["environment"].update(MATH_URL="http://math:8002"),
    ),
    "a secret with a value": ("secrets", lambda s: _env(s, "math").update(SECRET_KEY="dev")),
    "a secret with a default": (
        "secrets",
        lambda s: _env(s, "math").update(JWT_SECRET="${JWT_SECRET:-dev}"),
    ),
    "a secret in .env.example": (
        "secrets",
        lambda s: setattr(s, "env_example", s.env_example + "SECRET_KEY=dev\n"),
    ),
    "a port .env.example forgets": (
        "env example",
        lambda s: setattr(s, "env_example", s.env_example.replace("# MATH_PORT=8002\n", "")),
    ),
    ".env.example without ALLOWED_HOSTS": (
        "env example",
        lambda s: setattr(s, "env_example", s.env_example.replace("ALLOWED_HOSTS=", "# ALLOWED_")),
    ),
    "a port .env.example has wrong": (
        "env example",
        lambda s: setattr(s, "env_example", s.env_example.replace("MATH_PORT=8002", "MATH_PORT=1")),
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_each_check_finds_its_breakage(breakage: str) -> None:
    check, breaks = BREAKAGES[breakage]
    found = stack()
    breaks(found)
    assert CHECKS[check](found, REGISTRY), f"{check} did not notice: {breakage}"


def test_every_check_is_broken_at_least_once() -> None:
    assert {check for check, _ in BREAKAGES.values()} == set(CHECKS)


def test_the_files_parse() -> None:
    found = stack()
    assert found.base["services"] and found.host["services"]
