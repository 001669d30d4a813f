"""The Compose files, checked without running them (CI also runs them: .ci/run).

compose.yaml must be a valid Compose file with no secret values, whose
images are the ones docker/BUILD builds and whose gateway routes reach the
services it runs; compose.host.yaml adapts it to host networking only.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).parent
SECRETS = ("SECRET_KEY", "POSTGRES_PASSWORD", "JWT_SECRET", "JWT_PUBLIC_KEY")


class ComposeLoader(yaml.SafeLoader):
    """YAML with Compose's merge tags (``!reset``, ``!override``)."""


ComposeLoader.add_constructor("!reset", lambda loader, node: None)
ComposeLoader.add_constructor(
    "!override",
    lambda loader, node: (
        loader.construct_mapping(node)
        if isinstance(node, yaml.MappingNode)
        else loader.construct_sequence(node)
    ),
)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load((HERE / name).read_text(), Loader=ComposeLoader)
    return data


def built_images() -> set[str]:
    """The repositories of docker/BUILD's images."""
    build = (HERE / "BUILD").read_text()
    names = re.findall(r'^    "(\w+)": \("', build, flags=re.MULTILINE)
    assert names, "no images found in docker/BUILD"
    return {f"flask-blueprint/{name}:latest" for name in names}


def check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with its bundled compose-spec schema (offline)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_yaml_is_a_valid_compose_file() -> None:
    result = check_compose_schema(HERE / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  web:\n    image: 1\n    depends_on: 7\n")
    assert check_compose_schema(broken).returncode != 0


def test_every_app_image_is_built_and_every_built_image_runs() -> None:
    services = load("compose.yaml")["services"]
    ours = {s["image"] for s in services.values() if s["image"].startswith("flask-blueprint/")}
    assert ours == built_images()


def secret_values(compose: dict[str, Any]) -> list[str]:
    """Secrets given a literal value, or a default, instead of ``${NAME...}``."""
    found = []
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            secret = any(s in key for s in SECRETS) or "PASSWORD" in key
            if secret and not re.fullmatch(r"\$\{\w+(:\?[^}]*|:-)?\}", str(value)):
                found.append(f"{name}.{key}")
    return found


def test_no_secret_has_a_value_or_a_default() -> None:
    assert secret_values(load("compose.yaml")) == []
    example = (HERE / ".env.example").read_text()
    for line in example.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            if any(secret in key for secret in SECRETS):
                assert value == "", f".env.example gives {key} a value"
    assert secret_values({"services": {"x": {"environment": {"SECRET_KEY": "dev"}}}})


def test_services_wait_for_the_migrations_and_never_migrate_themselves() -> None:
    services = load("compose.yaml")["services"]
    assert services["migrate"]["restart"] == "no"
    entity = services["entity"]["depends_on"]["migrate"]
    assert entity == {"condition": "service_completed_successfully"}
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("entity", "math", "gateway"):
        assert services[name]["environment"]["APP_ENV"] == "prod"
        assert "healthz" in " ".join(services[name]["healthcheck"]["test"])


def test_the_gateway_routes_reach_services_on_their_ports() -> None:
    services = load("compose.yaml")["services"]
    env = services["gateway"]["environment"]
    for name, variable in (("entity", "ENTITY_URL"), ("math", "MATH_URL")):
        url = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", env[variable])
        port = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(services[name]["environment"]["PORT"]))
        assert url == f"http://{name}:{port}", (variable, url, port)
        assert services[name]["environment"].get("TRUSTED_PROXY_HOPS") == 1


def test_the_host_override_puts_every_app_container_on_the_host_network() -> None:
    base, host = load("compose.yaml")["services"], load("compose.host.yaml")["services"]
    for name in base:
        if name in ("postgres", "redis"):
            assert host[name]["profiles"], f"{name} must be left out on the host network"
        else:
            assert host[name]["network_mode"] == "host", name


@pytest.mark.parametrize("name", ["compose.yaml", "compose.host.yaml"])
def test_the_files_parse(name: str) -> None:
    assert load(name)["services"]
