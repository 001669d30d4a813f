"""The Kubernetes manifests, rendered with Kustomize and checked offline.

Each kustomization (the base and both overlays) is rendered with ``kubectl
kustomize``; every document must pass ``kubernetes-validate --strict`` and the
checks below, which a schema cannot make: selectors against labels, ports
against container ports, images, the gateway's routes, securityContexts, the
shutdown timing, autoscaling and disruption budgets, secrets, network policies.

Each check is also run on a small manifest built here, once as it is (no
problem) and once broken in the way the check is for (a problem), so that every
check is known to fail when it should. Without kubectl the rendering tests skip
(they fail with ``REQUIRE_CONTAINERS=1``).
"""

from __future__ import annotations

import copy
import functools
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

Doc = dict[str, Any]
Check = Callable[[list[Doc]], list[str]]

HERE = Path(__file__).parent
KUSTOMIZATIONS = {
    "base": HERE / "base",
    "dev": HERE / "overlays" / "dev",
    "prod": HERE / "overlays" / "prod",
}
KUBERNETES_VERSION = "1.32"  # kubectl's; kubernetes-validate bundles its schemas
KUBECTL_FALLBACK = "/usr/bin/kubectl"  # the test sandbox may have no PATH

APPS = ("entity", "math", "gateway")  # the Deployments
IMAGES = (*APPS, "migrate")  # the repositories docker/BUILD builds
IMAGE = re.compile(
    r"^(?:[^/]+/)?flask-blueprint/(?P<name>" + "|".join(IMAGES) + r")"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@sha256:[0-9a-f]{64})?$"
)
UPSTREAMS = {"ENTITY_URL": "entity", "MATH_URL": "math"}  # the gateway's routes
GRACEFUL_TIMEOUT = 10  # gunicorn's, in core.serve
USER = 10001  # the images' user and group
SECRET_NAME = "flask-blueprint-secrets"
REQUIRED_SECRETS = ("SECRET_KEY", "DATABASE_URL")
OPTIONAL_SECRETS = ("JWT_SECRET", "JWT_PUBLIC_KEY", "JWT_JWKS_URL", "JWT_AUDIENCE", "JWT_ISSUER")
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
NAME = "app.kubernetes.io/name"


# -- reading manifests -----------------------------------------------------------------------


def kubectl() -> str:
    """kubectl's absolute path, or skip (fail with REQUIRE_CONTAINERS=1) without it."""
    found = shutil.which("kubectl") or (
        KUBECTL_FALLBACK if os.access(KUBECTL_FALLBACK, os.X_OK) else None
    )
    if found is None:
        reason = "kubectl is not installed: the manifests cannot be rendered"
        if os.environ.get("REQUIRE_CONTAINERS") == "1":
            pytest.fail(reason + " (REQUIRE_CONTAINERS=1)")
        pytest.skip(reason)
    return found


@functools.cache
def _render(directory: Path) -> tuple[Doc, ...]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize {directory}:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def render(name: str) -> list[Doc]:
    """The documents of one kustomization, as ``kubectl kustomize`` renders them (a copy)."""
    return copy.deepcopy(list(_render(KUSTOMIZATIONS[name])))


def of_kind(docs: list[Doc], *kinds: str) -> list[Doc]:
    return [doc for doc in docs if doc.get("kind") in kinds]


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    for doc in of_kind(docs, kind):
        if doc["metadata"]["name"] == name:
            return doc
    raise KeyError(f"no {kind} {name}")


def name_of(doc: Doc) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: Doc) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"].get("metadata", {}).get("labels", {})
    return labels


def containers(workload: Doc) -> list[Doc]:
    spec = pod_spec(workload)
    found: list[Doc] = [*spec.get("initContainers", []), *spec.get("containers", [])]
    return found


def env_of(container: Doc) -> dict[str, Doc]:
    return {var["name"]: var for var in container.get("env", [])}


def selects(selector: Doc | None, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, matchExpressions) selects *labels*."""
    if selector is None:
        return False
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def container_ports(workload: Doc) -> set[int | str]:
    """Every container port of a workload's pods, by number and by name."""
    ports: set[int | str] = set()
    for container in containers(workload):
        for port in container.get("ports", []):
            ports.add(port["containerPort"])
            if "name" in port:
                ports.add(port["name"])
    return ports


def prestop_pause(container: Doc) -> int | None:
    """How long a container's preStop hook pauses, in seconds (0 without one; None: unknown)."""
    hook = container.get("lifecycle", {}).get("preStop")
    if hook is None:
        return 0
    if "sleep" in hook:
        seconds: int = hook["sleep"]["seconds"]
        return seconds
    command = hook.get("exec", {}).get("command", [])
    if len(command) == 2 and Path(command[0]).name == "sleep" and command[1].isdigit():
        return int(command[1])
    return None


# -- the checks ------------------------------------------------------------------------------


def validate_documents(docs: list[Doc]) -> list[str]:
    """kubernetes-validate, strict (no unknown fields), against KUBERNETES_VERSION."""
    problems = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            problems.append(f"{name_of(doc)}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{name_of(doc)}: {error.message}")
    return problems


def check_selectors(docs: list[Doc]) -> list[str]:
    """Every Deployment's (and a Job's own) selector selects its pod template's labels."""
    problems = []
    for workload in of_kind(docs, "Deployment", "Job"):
        selector = workload["spec"].get("selector")
        if workload["kind"] == "Job" and selector is None:
            continue  # the Job controller makes its own
        if not selector or not selects(selector, pod_labels(workload)):
            problems.append(f"{name_of(workload)}: its selector does not select its pods")
    return problems


def check_services(docs: list[Doc]) -> list[str]:
    """Every Service selects exactly one Deployment's pods, on ports those pods have."""
    problems = []
    deployments = of_kind(docs, "Deployment")
    for service in of_kind(docs, "Service"):
        selector = service["spec"].get("selector")
        chosen = [
            d for d in deployments if selector and selects({"matchLabels": selector}, pod_labels(d))
        ]
        if len(chosen) != 1:
            names = [name_of(d) for d in chosen]
            problems.append(f"{name_of(service)} selects {len(chosen)} Deployments {names}, not 1")
            continue
        ports = container_ports(chosen[0])
        for port in service["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            if target not in ports:
                problems.append(f"{name_of(service)}: targetPort {target} is no container port")
            if "name" not in port:
                problems.append(f"{name_of(service)}: port {port['port']} has no name")
    return problems


def check_probes(docs: list[Doc]) -> list[str]:
    """Every Deployment's container has the three probes, each on one of its ports."""
    problems = []
    for deployment in of_kind(docs, "Deployment"):
        ports = container_ports(deployment)
        for container in containers(deployment):
            for kind in PROBES:
                probe = container.get(kind)
                if probe is None:
                    problems.append(f"{name_of(deployment)}: {container['name']} has no {kind}")
                    continue
                action = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc")
                if action is None or action.get("port") not in ports:
                    problems.append(
                        f"{name_of(deployment)}: {container['name']} {kind} is on no container port"
                    )
    return problems


def check_images(docs: list[Doc]) -> list[str]:
    """Every image is one of the four flask-blueprint images (any registry, tag or digest)."""
    problems = []
    for workload in of_kind(docs, "Deployment", "Job"):
        for container in containers(workload):
            if not IMAGE.match(container.get("image", "")):
                problems.append(f"{name_of(workload)}: image {container.get('image')!r}")
    return problems


def check_upstream_urls(docs: list[Doc]) -> list[str]:
    """ENTITY_URL and MATH_URL name a Service, on a port it has, that reaches that Deployment."""
    problems = []
    services = {service["metadata"]["name"]: service for service in of_kind(docs, "Service")}
    deployments = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    for workload in of_kind(docs, "Deployment"):
        for container in containers(workload):
            for variable, upstream in UPSTREAMS.items():
                value = env_of(container).get(variable, {}).get("value")
                if value is None:
                    continue
                url = urlsplit(value)
                host = (url.hostname or "").split(".")[0]
                service = services.get(host)
                where = f"{name_of(workload)}: {variable}={value}"
                if url.scheme != "http" or service is None:
                    problems.append(f"{where}: no such Service")
                    continue
                port = next((p for p in service["spec"]["ports"] if p["port"] == url.port), None)
                if port is None:
                    problems.append(f"{where}: the Service has no port {url.port}")
                    continue
                target = deployments.get(upstream)
                if target is None or not selects(
                    {"matchLabels": service["spec"].get("selector", {})}, pod_labels(target)
                ):
                    problems.append(f"{where}: the Service does not reach Deployment/{upstream}")
    return problems


def check_security_contexts(docs: list[Doc]) -> list[str]:
    """Non-root 10001, no privilege escalation, no capabilities, RuntimeDefault, read-only root."""
    problems = []
    for workload in of_kind(docs, "Deployment", "Job"):
        spec = pod_spec(workload)
        pod = spec.get("securityContext", {})
        for key, want in (("runAsNonRoot", True), ("runAsUser", USER), ("runAsGroup", USER)):
            if pod.get(key) != want:
                problems.append(f"{name_of(workload)}: pod securityContext.{key} is not {want}")
        if pod.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name_of(workload)}: pod seccompProfile is not RuntimeDefault")
        empty_dirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for container in containers(workload):
            where = f"{name_of(workload)}: container {container['name']}"
            context = container.get("securityContext", {})
            for key, want in (
                ("runAsNonRoot", True),
                ("runAsUser", USER),
                ("runAsGroup", USER),
                ("readOnlyRootFilesystem", True),
                ("allowPrivilegeEscalation", False),
            ):
                if context.get(key) != want:
                    problems.append(f"{where}: securityContext.{key} is not {want}")
            if "ALL" not in context.get("capabilities", {}).get("drop", []):
                problems.append(f"{where}: capabilities do not drop ALL")
            if context.get("capabilities", {}).get("add"):
                problems.append(f"{where}: capabilities are added")
            if context.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                problems.append(f"{where}: seccompProfile is not RuntimeDefault")
            tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            if not tmp or tmp[0]["name"] not in empty_dirs:
                problems.append(f"{where}: /tmp is not an emptyDir")
    return problems


def check_termination(docs: list[Doc]) -> list[str]:
    """terminationGracePeriodSeconds > gunicorn's graceful timeout + the preStop pause."""
    problems = []
    for deployment in of_kind(docs, "Deployment"):
        grace = pod_spec(deployment).get("terminationGracePeriodSeconds", 30)
        for container in containers(deployment):
            pause = prestop_pause(container)
            if pause is None:
                problems.append(f"{name_of(deployment)}: cannot tell how long preStop pauses")
            elif grace <= GRACEFUL_TIMEOUT + pause:
                problems.append(
                    f"{name_of(deployment)}: terminationGracePeriodSeconds {grace} <= "
                    f"{GRACEFUL_TIMEOUT} (gunicorn) + {pause} (preStop)"
                )
    return problems


def check_scaling(docs: list[Doc]) -> list[str]:
    """Each Deployment has one HPA aimed at it and one PDB selecting it (and nothing else)."""
    problems = []
    deployments = of_kind(docs, "Deployment")
    names = {d["metadata"]["name"] for d in deployments}
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    pdbs = of_kind(docs, "PodDisruptionBudget")
    for hpa in hpas:
        target = hpa["spec"]["scaleTargetRef"]
        if target.get("kind") != "Deployment" or target.get("name") not in names:
            problems.append(f"{name_of(hpa)} scales no Deployment here")
        if hpa["spec"].get("minReplicas", 1) > hpa["spec"]["maxReplicas"]:
            problems.append(f"{name_of(hpa)}: minReplicas > maxReplicas")
    for pdb in pdbs:
        chosen = [d for d in deployments if selects(pdb["spec"].get("selector"), pod_labels(d))]
        if len(chosen) != 1:
            problems.append(f"{name_of(pdb)} selects {len(chosen)} Deployments, not 1")
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        aimed = [h for h in hpas if h["spec"]["scaleTargetRef"].get("name") == name]
        if len(aimed) != 1:
            problems.append(f"{name_of(deployment)} has {len(aimed)} HPAs, not 1")
        if not any(selects(p["spec"].get("selector"), pod_labels(deployment)) for p in pdbs):
            problems.append(f"{name_of(deployment)} has no PodDisruptionBudget")
    return problems


def check_secrets(docs: list[Doc]) -> list[str]:
    """No Secret is rendered; secret settings come from the one Secret, by reference only."""
    problems = [
        f"{name_of(doc)} is rendered: secrets are created apart" for doc in of_kind(docs, "Secret")
    ]
    secret = {*REQUIRED_SECRETS, *OPTIONAL_SECRETS}
    for config_map in of_kind(docs, "ConfigMap"):
        for key in secret & set(config_map.get("data", {})):
            problems.append(f"{name_of(config_map)} holds {key}")
    for workload in of_kind(docs, "Deployment", "Job"):
        for container in containers(workload):
            for name, var in env_of(container).items():
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                where = f"{name_of(workload)}: {name}"
                if name in secret and ref is None:
                    problems.append(f"{where} is not from a Secret")
                if ref is None:
                    continue
                if ref["name"] != SECRET_NAME:
                    problems.append(f"{where} is from Secret {ref['name']}, not {SECRET_NAME}")
                if name in REQUIRED_SECRETS and ref.get("optional"):
                    problems.append(f"{where} is required but marked optional")
                if name in OPTIONAL_SECRETS and not ref.get("optional"):
                    problems.append(f"{where} is optional but not marked so")
    return problems


def check_settings(docs: list[Doc]) -> list[str]:
    """Each app runs in prod behind one proxy, on its container port, with its secrets."""
    problems = []
    config_maps = {c["metadata"]["name"]: c.get("data", {}) for c in of_kind(docs, "ConfigMap")}
    for workload in of_kind(docs, "Deployment", "Job"):
        for container in containers(workload):
            env = env_of(container)
            where = f"{name_of(workload)}: {container['name']}"
            if env.get("APP_ENV", {}).get("value") != "prod":
                problems.append(f"{where}: APP_ENV is not prod")
            for var in env.values():
                ref = var.get("valueFrom", {}).get("configMapKeyRef")
                if (
                    ref
                    and not ref.get("optional")
                    and ref["key"] not in config_maps.get(ref["name"], {})
                ):
                    problems.append(f"{where}: {var['name']} from a missing ConfigMap key")
            if "LOG_LEVEL" not in env:
                problems.append(f"{where}: no LOG_LEVEL")
            if workload["kind"] != "Deployment":
                continue
            if env.get("TRUSTED_PROXY_HOPS", {}).get("value") != "1":
                problems.append(f"{where}: TRUSTED_PROXY_HOPS is not 1")
            if env.get("PORT", {}).get("value") not in {str(p) for p in container_ports(workload)}:
                problems.append(f"{where}: PORT is not its container port")
            if "SECRET_KEY" not in env:
                problems.append(f"{where}: no SECRET_KEY")
    return problems


def _peer_selects(peer: Doc, labels: dict[str, str] | None) -> bool:
    """Whether a NetworkPolicy peer covers pods with *labels* in the same namespace."""
    if labels is None:  # something outside: an address, or another namespace
        return "ipBlock" in peer or "namespaceSelector" in peer
    return "namespaceSelector" not in peer and selects(peer.get("podSelector"), labels)


def _rule_allows(rule: Doc, peers_key: str, port: int | str, labels: dict[str, str] | None) -> bool:
    ports = [p.get("port") for p in rule.get("ports", [])]
    if ports and port not in ports:
        return False
    peers = rule.get(peers_key, [])
    return not peers or any(_peer_selects(peer, labels) for peer in peers)


def _policies(docs: list[Doc], labels: dict[str, str], direction: str) -> Iterator[Doc]:
    for policy in of_kind(docs, "NetworkPolicy"):
        if direction in policy["spec"].get("policyTypes", []) and selects(
            policy["spec"].get("podSelector"), labels
        ):
            yield policy


def allows_egress(
    docs: list[Doc], source: dict[str, str], port: int, target: dict[str, str] | None
) -> bool:
    return any(
        _rule_allows(rule, "to", port, target)
        for policy in _policies(docs, source, "Egress")
        for rule in policy["spec"].get("egress", [])
    )


def check_network_policies(docs: list[Doc]) -> list[str]:
    """Deny by default; DNS for all; only the gateway into entity and math; the paths needed."""
    problems = []
    policies = of_kind(docs, "NetworkPolicy")
    workloads = {w["metadata"]["name"]: w for w in of_kind(docs, "Deployment", "Job")}
    labels = {name: pod_labels(w) for name, w in workloads.items()}
    if not any(
        p["spec"].get("podSelector") == {}
        and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", []))
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in policies
    ):
        problems.append("no default-deny NetworkPolicy (every pod, Ingress and Egress, no rule)")
    for name, pod in labels.items():
        if not any(
            _rule_allows(rule, "to", 53, None)
            and (not rule.get("ports") or "UDP" in {p.get("protocol") for p in rule["ports"]})
            for policy in _policies(docs, pod, "Egress")
            for rule in policy["spec"].get("egress", [])
        ):
            problems.append(f"{name} may not resolve names (no egress to port 53/UDP)")
    for name in ("entity", "math"):
        if name not in labels:
            continue
        rules = [
            r
            for p in _policies(docs, labels[name], "Ingress")
            for r in p["spec"].get("ingress", [])
        ]
        for rule in rules:
            peers = rule.get("from", [])
            only_gateway = peers and all(
                set(peer) == {"podSelector"}
                and "gateway" in labels
                and selects(peer["podSelector"], labels["gateway"])
                and not any(
                    selects(peer["podSelector"], other)
                    for n, other in labels.items()
                    if n != "gateway"
                )
                for peer in peers
            )
            if not only_gateway:
                problems.append(f"{name} may be reached from more than the gateway: {peers}")
        if "gateway" in labels:
            port = workloads[name]["spec"]["template"]["spec"]["containers"][0]["ports"][0]
            if not any(
                _rule_allows(r, "from", number_or_name, labels["gateway"])
                for r in rules
                for number_or_name in (port["containerPort"], port.get("name", ""))
            ):
                problems.append(f"the gateway may not reach {name} (ingress)")
            if not allows_egress(docs, labels["gateway"], port["containerPort"], labels[name]):
                problems.append(f"the gateway may not reach {name} (egress)")
    for name in ("entity", "migrate"):
        if name in labels and not allows_egress(docs, labels[name], 5432, None):
            problems.append(f"{name} may not reach PostgreSQL (egress to 5432)")
    if "gateway" in labels:
        if not allows_egress(docs, labels["gateway"], 6379, None):
            problems.append("the gateway may not reach Redis (egress to 6379)")
        if not any(
            _rule_allows(rule, "from", "http", None)
            for policy in _policies(docs, labels["gateway"], "Ingress")
            for rule in policy["spec"].get("ingress", [])
        ):
            problems.append("the ingress controller may not reach the gateway")
    return problems


CHECKS: dict[str, Check] = {
    "selectors": check_selectors,
    "services": check_services,
    "probes": check_probes,
    "images": check_images,
    "upstream urls": check_upstream_urls,
    "security contexts": check_security_contexts,
    "termination": check_termination,
    "scaling": check_scaling,
    "secrets": check_secrets,
    "settings": check_settings,
    "network policies": check_network_policies,
}


# -- the rendered manifests ------------------------------------------------------------------


@pytest.fixture(params=sorted(KUSTOMIZATIONS))
def rendered(request: pytest.FixtureRequest) -> list[Doc]:
    name: str = request.param
    return render(name)


def test_the_validation_version_is_bundled() -> None:
    bundled = {".".join(v.split(".")[:2]) for v in kubernetes_validate.utils.all_versions()}
    assert KUBERNETES_VERSION in bundled


def test_every_document_is_valid_kubernetes(rendered: list[Doc]) -> None:
    assert validate_documents(rendered) == []


@pytest.mark.parametrize("check", CHECKS)
def test_the_rendered_manifests_pass(rendered: list[Doc], check: str) -> None:
    assert CHECKS[check](rendered) == []


def test_every_part_is_rendered(rendered: list[Doc]) -> None:
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in rendered}
    for name in APPS:
        for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
            assert (kind, name) in kinds
    assert ("Job", "migrate") in kinds
    assert ("Ingress", "gateway") in kinds
    assert ("NetworkPolicy", "default-deny") in kinds
    for doc in rendered:
        labels = doc["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/part-of") == "flask-blueprint", name_of(doc)
    for workload in of_kind(rendered, "Deployment", "Job"):
        for key in (NAME, "app.kubernetes.io/component", "app.kubernetes.io/part-of"):
            assert key in pod_labels(workload), f"{name_of(workload)}: pods lack {key}"


def test_the_gateway_routes_to_both_services(rendered: list[Doc]) -> None:
    env = env_of(containers(find(rendered, "Deployment", "gateway"))[0])
    assert {name: env[name].get("value") for name in UPSTREAMS} == {
        "ENTITY_URL": "http://entity:8001",
        "MATH_URL": "http://math:8002",
    }
    assert "RATELIMIT_STORAGE_URI" in env
    entity = env_of(containers(find(rendered, "Deployment", "entity"))[0])
    assert "secretKeyRef" in entity["DATABASE_URL"]["valueFrom"]
    migrate = env_of(containers(find(rendered, "Job", "migrate"))[0])
    assert "secretKeyRef" in migrate["DATABASE_URL"]["valueFrom"]


def test_readiness_is_the_database_for_services_and_itself_for_the_gateway(
    rendered: list[Doc],
) -> None:
    paths = {
        name: {
            probe: containers(find(rendered, "Deployment", name))[0][probe]["httpGet"]["path"]
            for probe in PROBES
        }
        for name in APPS
    }
    assert paths == {
        "entity": {
            "startupProbe": "/healthz",
            "readinessProbe": "/readyz",
            "livenessProbe": "/healthz",
        },
        "math": {
            "startupProbe": "/healthz",
            "readinessProbe": "/readyz",
            "livenessProbe": "/healthz",
        },
        "gateway": {
            "startupProbe": "/healthz",
            "readinessProbe": "/healthz",
            "livenessProbe": "/healthz",
        },
    }


def test_the_ingress_goes_to_the_gateway(rendered: list[Doc]) -> None:
    gateway = find(rendered, "Service", "gateway")
    for rule in find(rendered, "Ingress", "gateway")["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "gateway"
            assert backend["port"]["name"] in {p["name"] for p in gateway["spec"]["ports"]}


def test_the_migration_job_is_bounded() -> None:
    for name in KUSTOMIZATIONS:
        job = find(render(name), "Job", "migrate")["spec"]
        assert job["backoffLimit"] > 0 and job["ttlSecondsAfterFinished"] > 0
        assert job["template"]["spec"]["restartPolicy"] in {"Never", "OnFailure"}


def test_the_overlays_are_namespaced() -> None:
    for name in ("dev", "prod"):
        docs = render(name)
        namespaces = [doc["metadata"]["name"] for doc in of_kind(docs, "Namespace")]
        assert len(namespaces) == 1, name
        for doc in docs:
            if doc["kind"] != "Namespace":
                assert doc["metadata"].get("namespace") == namespaces[0], name_of(doc)


def test_dev_runs_one_of_each() -> None:
    docs = render("dev")
    assert {d["spec"]["replicas"] for d in of_kind(docs, "Deployment")} == {1}
    assert {h["spec"]["minReplicas"] for h in of_kind(docs, "HorizontalPodAutoscaler")} == {1}


def test_prod_runs_at_least_two_of_pinned_images_on_its_host() -> None:
    docs = render("prod")
    assert min(d["spec"]["replicas"] for d in of_kind(docs, "Deployment")) >= 2
    assert min(h["spec"]["minReplicas"] for h in of_kind(docs, "HorizontalPodAutoscaler")) >= 2
    for workload in of_kind(docs, "Deployment", "Job"):
        for container in containers(workload):
            match = IMAGE.match(container["image"])
            assert match, container["image"]
            assert match["tag"] not in {None, "latest"} or "@sha256:" in container["image"]
    ingress = find(docs, "Ingress", "gateway")["spec"]
    assert [rule.get("host") for rule in ingress["rules"]] == ["api.example.com"]
    assert ingress["tls"] == [{"hosts": ["api.example.com"], "secretName": "api-example-com-tls"}]


def test_prod_gives_more_resources_than_dev() -> None:
    def memory(name: str) -> str:
        deployment = find(render(name), "Deployment", "entity")
        limit: str = containers(deployment)[0]["resources"]["limits"]["memory"]
        return limit

    assert (memory("dev"), memory("prod")) == ("320Mi", "512Mi")


# -- the checks themselves, on a small manifest ----------------------------------------------


def _app(name: str, port: int, env: list[Doc]) -> list[Doc]:
    labels = {NAME: name, "app.kubernetes.io/component": "service"}
    context: Doc = {
        "runAsNonRoot": True,
        "runAsUser": USER,
        "runAsGroup": USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    probe: Doc = {"httpGet": {"path": "/healthz", "port": "http"}}
    secret = {"secretKeyRef": {"name": SECRET_NAME, "key": "SECRET_KEY"}}
    jwt = {"secretKeyRef": {"name": SECRET_NAME, "key": "JWT_SECRET", "optional": True}}
    container: Doc = {
        "name": name,
        "image": f"flask-blueprint/{name}:1.0",
        "ports": [{"name": "http", "containerPort": port}],
        "env": [
            {"name": "PORT", "value": str(port)},
            {"name": "APP_ENV", "value": "prod"},
            {"name": "TRUSTED_PROXY_HOPS", "value": "1"},
            {
                "name": "LOG_LEVEL",
                "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "LOG_LEVEL"}},
            },
            {"name": "SECRET_KEY", "valueFrom": secret},
            {"name": "JWT_SECRET", "valueFrom": jwt},
            *env,
        ],
        **{kind: copy.deepcopy(probe) for kind in PROBES},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
        "securityContext": {
            **context,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    selector = {"matchLabels": {NAME: name}}
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "selector": selector,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "terminationGracePeriodSeconds": 30,
                        "securityContext": context,
                        "containers": [container],
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {
                "selector": {NAME: name},
                "ports": [{"name": "http", "port": port, "targetPort": "http"}],
            },
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": 1,
                "maxReplicas": 3,
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name},
            "spec": {"maxUnavailable": 1, "selector": copy.deepcopy(selector)},
        },
    ]


def _policy(name: str, spec: Doc) -> Doc:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def small_manifest() -> list[Doc]:
    """math behind the gateway, with the policies between them: passes every check."""
    gateway_pods = {"podSelector": {"matchLabels": {NAME: "gateway"}}}
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cfg"},
            "data": {"LOG_LEVEL": "INFO"},
        },
        *_app("math", 8002, []),
        *_app("gateway", 8000, [{"name": "MATH_URL", "value": "http://math:8002"}]),
        _policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        _policy(
            "dns",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
                ],
            },
        ),
        _policy(
            "math",
            {
                "podSelector": {"matchLabels": {NAME: "math"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [gateway_pods], "ports": [{"port": "http"}]}],
            },
        ),
        _policy(
            "gateway",
            {
                "podSelector": {"matchLabels": {NAME: "gateway"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": "http"}]}],
                "egress": [
                    {
                        "to": [{"podSelector": {"matchLabels": {NAME: "math"}}}],
                        "ports": [{"port": 8002}],
                    },
                    {"ports": [{"port": 6379}]},
                ],
            },
        ),
    ]


def _container(docs: list[Doc], name: str = "math") -> Doc:
    return containers(find(docs, "Deployment", name))[0]


def _env(docs: list[Doc], name: str, variable: str) -> Doc:
    return env_of(_container(docs, name))[variable]


def _twin(docs: list[Doc]) -> None:
    twin = copy.deepcopy(find(docs, "Deployment", "math"))
    twin["metadata"]["name"] = "math-canary"
    docs.append(twin)


# (the check, how it is broken)
BREAKAGES: dict[str, tuple[str, Callable[[list[Doc]], object]]] = {
    "selector misses its pods": (
        "selectors",
        lambda d: find(d, "Deployment", "math")["spec"]["selector"]["matchLabels"].update(
            {NAME: "x"}
        ),
    ),
    "service selects nothing": (
        "services",
        lambda d: find(d, "Service", "math")["spec"]["selector"].update({NAME: "maths"}),
    ),
    "service selects two deployments": ("services", _twin),
    "service targets a port the pods lack": (
        "services",
        lambda d: find(d, "Service", "math")["spec"]["ports"][0].update(targetPort="web"),
    ),
    "probe on another port": (
        "probes",
        lambda d: _container(d)["readinessProbe"]["httpGet"].update(port=9999),
    ),
    "no liveness probe": ("probes", lambda d: _container(d).pop("livenessProbe")),
    "foreign image": ("images", lambda d: _container(d).update(image="nginx:1.25")),
    "image of another project": (
        "images",
        lambda d: _container(d).update(image="example/math:1.0"),
    ),
    "upstream on a port the service lacks": (
        "upstream urls",
        lambda d: _env(d, "gateway", "MATH_URL").update(value="http://math:9000"),
    ),
    "upstream service missing": (
        "upstream urls",
        lambda d: _env(d, "gateway", "MATH_URL").update(value="http://maths:8002"),
    ),
    "writable root filesystem": (
        "security contexts",
        lambda d: _container(d)["securityContext"].update(readOnlyRootFilesystem=False),
    ),
    "capabilities kept": (
        "security contexts",
        lambda d: _container(d)["securityContext"].pop("capabilities"),
    ),
    "privilege escalation": (
        "security contexts",
        lambda d: _container(d)["securityContext"].update(allowPrivilegeEscalation=True),
    ),
    "pod may run as root": (
        "security contexts",
        lambda d: pod_spec(find(d, "Deployment", "math"))["securityContext"].pop("runAsNonRoot"),
    ),
    "no seccomp profile": (
        "security contexts",
        lambda d: _container(d)["securityContext"].pop("seccompProfile"),
    ),
    "no /tmp volume": ("security contexts", lambda d: _container(d).pop("volumeMounts")),
    "grace period too short": (
        "termination",
        lambda d: pod_spec(find(d, "Deployment", "math")).update(terminationGracePeriodSeconds=15),
    ),
    "unknown preStop": (
        "termination",
        lambda d: _container(d)["lifecycle"]["preStop"]["exec"].update(command=["/bin/true"]),
    ),
    "no HPA": ("scaling", lambda d: d.remove(find(d, "HorizontalPodAutoscaler", "math"))),
    "PDB selects nothing": (
        "scaling",
        lambda d: find(d, "PodDisruptionBudget", "math")["spec"]["selector"].update(
            matchLabels={NAME: "maths"}
        ),
    ),
    "a Secret with values": (
        "secrets",
        lambda d: d.append(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET_NAME}, "data": {}}
        ),
    ),
    "a secret as a literal": (
        "secrets",
        lambda d: _env(d, "math", "SECRET_KEY").update(value="s3cret", valueFrom=None),
    ),
    "an optional secret not marked optional": (
        "secrets",
        lambda d: _env(d, "math", "JWT_SECRET")["valueFrom"]["secretKeyRef"].pop("optional"),
    ),
    "not prod": ("settings", lambda d: _env(d, "math", "APP_ENV").update(value="dev")),
    "a missing ConfigMap": (
        "settings",
        lambda d: d.remove(find(d, "ConfigMap", "cfg")),
    ),
    "PORT is not the container port": (
        "settings",
        lambda d: _env(d, "math", "PORT").update(value="8080"),
    ),
    "no default deny": (
        "network policies",
        lambda d: d.remove(find(d, "NetworkPolicy", "default-deny")),
    ),
    "math open to every namespace": (
        "network policies",
        lambda d: find(d, "NetworkPolicy", "math")["spec"]["ingress"][0].update(
            {"from": [{"namespaceSelector": {}}]}
        ),
    ),
    "gateway may not reach math": (
        "network policies",
        lambda d: find(d, "NetworkPolicy", "gateway")["spec"]["egress"].pop(0),
    ),
    "no DNS": ("network policies", lambda d: d.remove(find(d, "NetworkPolicy", "dns"))),
    "gateway may not reach redis": (
        "network policies",
        lambda d: find(d, "NetworkPolicy", "gateway")["spec"]["egress"].pop(1),
    ),
}


def _clean(docs: list[Doc]) -> list[Doc]:
    """Drop the None values the breakages leave (a removed valueFrom)."""
    for container in (c for w in of_kind(docs, "Deployment") for c in containers(w)):
        for var in container.get("env", []):
            if var.get("valueFrom", "") is None:
                del var["valueFrom"]
    return docs


def test_the_small_manifest_passes_every_check_and_the_schema() -> None:
    docs = small_manifest()
    assert validate_documents(docs) == []
    assert {name: CHECKS[name](docs) for name in CHECKS} == {name: [] for name in CHECKS}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_each_check_finds_its_breakage(breakage: str) -> None:
    check, breaks = BREAKAGES[breakage]
    docs = small_manifest()
    breaks(docs)
    assert CHECKS[check](_clean(docs)), f"{check} did not notice: {breakage}"


def test_every_check_is_broken_at_least_once() -> None:
    assert {check for check, _ in BREAKAGES.values()} == set(CHECKS)


@pytest.mark.parametrize(
    "field, value",
    [("replicas", "two"), ("revisionHistory", 3), ("template", [])],
)
def test_the_schema_rejects_a_broken_deployment(field: str, value: object) -> None:
    docs = small_manifest()
    find(docs, "Deployment", "math")["spec"][field] = value
    assert validate_documents(docs)
