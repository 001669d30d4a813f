"""A new service added to copies of docker/'s Compose files and Kubernetes manifests.

The copies must then pass the very checks docker/compose_test and
docker/k8s/manifests_test run, against the registry with the new services:
``widget`` (tables, calls entity) and ``gadget`` (neither). Without kubectl
the Kubernetes half skips (it fails with ``REQUIRE_CONTAINERS=1``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.registry import Deployable, Registry, read
from deployables import deployables
from docker import compose_checks
from docker.k8s import manifests
from scaffold.deploy import add_to_compose, add_to_kubernetes

WIDGET = Deployable(
    name="widget",
    kind="service",
    target="services/widget:serve",
    port=8099,
    prefixes=("/api/widgets",),
    database=True,
    scopes=("widget:read", "widget:write", "widget:admin"),
    calls=("entity",),
)
GADGET = Deployable(
    name="gadget",
    kind="service",
    target="services/gadget:serve",
    port=8098,
    prefixes=("/api/gadgets",),
)
NEW = (WIDGET, GADGET)


def registry_with(*new: Deployable) -> Registry:
    """The registry with *new* services after its own (before the gateway and the jobs)."""
    registry = read(deployables())
    services = [*registry.services, *new]
    others = [d for d in registry.values() if d.kind != "service"]
    return Registry({d.name: d for d in [*services, *others]})


@pytest.fixture
def docker_dir(tmp_path: Path) -> Path:
    """A copy of docker/'s Compose files and of docker/k8s's manifests."""
    copy = tmp_path / "docker"
    copy.mkdir()
    for name in ("compose.yaml", "compose.host.yaml", ".env.example"):
        shutil.copy(compose_checks.HERE / name, copy / name)
    for part in ("base", "overlays"):
        shutil.copytree(manifests.HERE / part, copy / "k8s" / part)
    return copy


def texts(directory: Path) -> dict[Path, str]:
    return {path: path.read_text() for path in sorted(directory.rglob("*")) if path.is_file()}


def compose_problems(directory: Path, registry: Registry) -> dict[str, list[str]]:
    stack = compose_checks.read_stack(directory)
    return {name: check(stack, registry) for name, check in compose_checks.CHECKS.items()}


def kubernetes_problems(k8s: Path, registry: Registry) -> dict[str, list[str]]:
    """Every check, on the base and on each overlay (with its own), by ``kustomization: check``."""
    found = {}
    for name in ("base", "dev", "prod"):
        directory = k8s / "base" if name == "base" else k8s / "overlays" / name
        docs = manifests.render(directory)
        found[f"{name}: schema"] = manifests.validate_documents(docs)
        for check, run in manifests.CHECKS.items():
            found[f"{name}: {check}"] = run(docs, registry)
        if name in manifests.OVERLAY_CHECKS:
            found[f"{name}: overlay"] = manifests.OVERLAY_CHECKS[name](docs, registry)
    return found


def test_new_services_pass_the_compose_checks(docker_dir: Path) -> None:
    registry = registry_with(*NEW)
    before = compose_problems(docker_dir, registry)
    assert any("widget" in p for p in before["images"]) and before["routes"]
    for new in NEW:
        add_to_compose(docker_dir, new)
    assert compose_problems(docker_dir, registry) == {n: [] for n in compose_checks.CHECKS}
    result = compose_checks.check_compose_schema(docker_dir / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    # The comments are kept, and each marker stays once, below what it was given.
    text = (docker_dir / "compose.yaml").read_text()
    assert text.startswith((compose_checks.HERE / "compose.yaml").read_text().split("\n", 1)[0])
    assert text.count("# new services: above this line") == 1
    assert text.index("  widget:\n") < text.index("  gadget:\n") < text.index("# new services:")


def test_new_services_pass_the_kubernetes_checks(docker_dir: Path) -> None:
    manifests.kubectl()  # skip without it
    k8s = docker_dir / "k8s"
    registry = registry_with(*NEW)
    before = kubernetes_problems(k8s, registry)
    assert "widget: no Deployment" in before["base: deployables"]
    for new in NEW:
        add_to_kubernetes(k8s, new)
    found = kubernetes_problems(k8s, registry)
    assert found == {name: [] for name in found}
    base = manifests.render(k8s / "base")
    assert {"widget", "gadget", "entity-from-widget"} <= {
        p["metadata"]["name"] for p in manifests.of_kind(base, "NetworkPolicy")
    }
    assert (k8s / "base" / "widget.yaml").read_text().startswith("# widget: ")


def test_the_checks_notice_a_caller_without_its_policy(docker_dir: Path) -> None:
    """entity closed to widget: the network policy check must say so."""
    manifests.kubectl()
    k8s = docker_dir / "k8s"
    add_to_kubernetes(k8s, WIDGET)
    docs = manifests.render(k8s / "base")
    docs.remove(manifests.find(docs, "NetworkPolicy", "entity-from-widget"))
    problems = manifests.check_network_policies(docs, registry_with(WIDGET))
    assert "widget may not reach entity (ingress)" in problems


def test_a_service_already_there_is_refused_and_nothing_is_written(docker_dir: Path) -> None:
    add_to_compose(docker_dir, WIDGET)
    add_to_kubernetes(docker_dir / "k8s", WIDGET)
    written = texts(docker_dir)
    with pytest.raises(ValueError, match="already"):
        add_to_compose(docker_dir, WIDGET)
    with pytest.raises(ValueError, match="already"):
        add_to_kubernetes(docker_dir / "k8s", WIDGET)
    assert texts(docker_dir) == written


@pytest.mark.parametrize(
    "deployable",
    [
        Deployable("lost", "service", "services/lost:serve", 8097, ("/api/lost",), calls=("nope",)),
        Deployable("edge", "gateway", "services/edge:serve", 8096),
    ],
)
def test_what_cannot_be_added_is_refused_and_nothing_is_written(
    docker_dir: Path, deployable: Deployable
) -> None:
    written = texts(docker_dir)
    with pytest.raises(ValueError):
        add_to_compose(docker_dir, deployable)
    with pytest.raises(ValueError):
        add_to_kubernetes(docker_dir / "k8s", deployable)
    assert texts(docker_dir) == written


def test_a_file_without_its_marker_is_refused(docker_dir: Path) -> None:
    env = docker_dir / ".env.example"
    env.write_text(env.read_text().replace("# new services' ports: above this line\n", ""))
    written = texts(docker_dir)
    with pytest.raises(ValueError, match="new services' ports"):
        add_to_compose(docker_dir, GADGET)
    assert texts(docker_dir) == written
