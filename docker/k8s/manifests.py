"""The Kubernetes manifests: rendered with Kustomize, and the checks a schema cannot make.

Every check takes the rendered documents and the registry of deployables
(deployables.py) and returns the problems it finds (an empty list: none)
instead of asserting: manifests_test runs them on docker/k8s as it is and on
manifests broken on purpose, the scaffolder's tests on copies it has added a
service to. They check selectors against labels, ports against container
ports, images, the routes, securityContexts, the shutdown timing, autoscaling
and disruption budgets, secrets, network policies, and that every deployable
of the registry is deployed (and nothing else of ours).
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

from core.hosts import host_is_allowed, parse_allowed_hosts
from core.registry import Deployable, Registry

Doc = dict[str, Any]
Check = Callable[[list[Doc], Registry], list[str]]

HERE = Path(__file__).parent
KUSTOMIZATIONS = {
    "base": HERE / "base",
    "dev": HERE / "overlays" / "dev",
    "prod": HERE / "overlays" / "prod",
}
KUBERNETES_VERSION = "1.32"  # kubectl's; kubernetes-validate bundles its schemas
KUBECTL_FALLBACK = "/usr/bin/kubectl"  # the test sandbox may have no PATH

GRACEFUL_TIMEOUT = 10  # gunicorn's, in core.serve
USER = 10001  # the images' user and group
SECRET_NAME = "flask-blueprint-secrets"
REQUIRED_SECRETS = ("SECRET_KEY", "DATABASE_URL")
OPTIONAL_SECRETS = ("JWT_SECRET", "JWT_PUBLIC_KEY", "JWT_JWKS_URL", "JWT_AUDIENCE", "JWT_ISSUER")
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
NAME = "app.kubernetes.io/name"
# Settings named *_URL that are no service's address.
OTHER_URLS = frozenset({"DATABASE_URL", "JWT_JWKS_URL"})
POSTGRES, REDIS = 5432, 6379
PUBLIC_HOSTS = "$(PUBLIC_HOSTS)"  # the ConfigMap's, expanded by the kubelet


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


_render_ours = functools.cache(_render)  # docker/k8s's own do not change during a run


def render(directory: Path) -> list[Doc]:
    """The documents of one kustomization, as ``kubectl kustomize`` renders them (a copy)."""
    ours = directory in KUSTOMIZATIONS.values()
    return copy.deepcopy(list(_render_ours(directory) if ours else _render(directory)))


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


def check_selectors(docs: list[Doc], registry: Registry) -> list[str]:
    """Every Deployment's (and a Job's own) selector selects its pod template's labels."""
    problems = []
    for workload in of_kind(docs, "Deployment", "Job"):
        selector = workload["spec"].get("selector")
        if workload["kind"] == "Job" and selector is None:
            continue  # the Job controller makes its own
        if not selector or not selects(selector, pod_labels(workload)):
            problems.append(f"{name_of(workload)}: its selector does not select its pods")
    return problems


def check_services(docs: list[Doc], registry: Registry) -> list[str]:
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


def check_probes(docs: list[Doc], registry: Registry) -> list[str]:
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


def image_pattern(registry: Registry) -> re.Pattern[str]:
    """The images of the registry's deployables, from any image registry, by any tag or digest."""
    names = "|".join(re.escape(name) for name in registry)
    return re.compile(
        r"^(?:[^/]+/)?flask-blueprint/(?P<name>" + names + r")"
        r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@sha256:[0-9a-f]{64})?$"
    )


def check_images(docs: list[Doc], registry: Registry) -> list[str]:
    """Every image is the image of a deployable of the registry (any registry, tag or digest)."""
    pattern = image_pattern(registry)
    problems = []
    for workload in of_kind(docs, "Deployment", "Job"):
        for container in containers(workload):
            if not pattern.match(container.get("image", "")):
                problems.append(f"{name_of(workload)}: image {container.get('image')!r}")
    return problems


def check_upstream_urls(docs: list[Doc], registry: Registry) -> list[str]:
    """Each service's ``<NAME>_URL`` names a Service, on a port it has, that reaches its Deployment."""
    upstreams = {d.url_setting: d.name for d in registry.services}
    problems = []
    services = {service["metadata"]["name"]: service for service in of_kind(docs, "Service")}
    deployments = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    for workload in of_kind(docs, "Deployment"):
        for container in containers(workload):
            for variable, upstream in upstreams.items():
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


def check_security_contexts(docs: list[Doc], registry: Registry) -> list[str]:
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


def check_termination(docs: list[Doc], registry: Registry) -> list[str]:
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


def check_scaling(docs: list[Doc], registry: Registry) -> list[str]:
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


def check_secrets(docs: list[Doc], registry: Registry) -> list[str]:
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


def check_settings(docs: list[Doc], registry: Registry) -> list[str]:
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


def public_hosts(docs: list[Doc], container: Doc) -> str | None:
    """The ConfigMap value a container's ``PUBLIC_HOSTS`` comes from (None: from none)."""
    ref = env_of(container).get("PUBLIC_HOSTS", {}).get("valueFrom", {}).get("configMapKeyRef")
    if not ref or ref.get("optional"):
        return None
    for config_map in of_kind(docs, "ConfigMap"):
        if config_map["metadata"]["name"] == ref["name"]:
            value: str | None = config_map.get("data", {}).get(ref["key"])
            return value
    return None


def check_hosts(docs: list[Doc], registry: Registry) -> list[str]:
    """Each app allows the public hosts, its Service's name, and its probes name one of them.

    ``ALLOWED_HOSTS`` is ``$(PUBLIC_HOSTS),<name>``: the ConfigMap's public
    hosts (what clients name, forwarded by the gateway to the services), set
    before it so that the kubelet expands it, and the Service's name (how the
    gateway and callers reach it). The kubelet's probes name the pod's address
    unless told: each names an allowed host.
    """
    problems = []
    for deployment in of_kind(docs, "Deployment"):
        name = deployment["metadata"]["name"]
        for container in containers(deployment):
            where = f"{name_of(deployment)}: {container['name']}"
            names = [var["name"] for var in container.get("env", [])]
            value = env_of(container).get("ALLOWED_HOSTS", {}).get("value")
            if value is None:
                problems.append(f"{where}: no ALLOWED_HOSTS")
                continue
            entries = [entry.strip() for entry in value.split(",")]
            if PUBLIC_HOSTS not in entries:
                problems.append(f"{where}: ALLOWED_HOSTS does not allow {PUBLIC_HOSTS}")
            elif "PUBLIC_HOSTS" not in names or names.index("PUBLIC_HOSTS") > names.index(
                "ALLOWED_HOSTS"
            ):
                problems.append(f"{where}: PUBLIC_HOSTS is not set before ALLOWED_HOSTS")
            elif (public := public_hosts(docs, container)) is None:
                problems.append(f"{where}: PUBLIC_HOSTS is from no ConfigMap key")
            else:
                try:
                    parse_allowed_hosts(public)
                except ValueError as error:
                    problems.append(f"{where}: the ConfigMap's {error}")
            if name not in entries:
                problems.append(f"{where}: ALLOWED_HOSTS does not allow its Service's name {name}")
            own = [entry for entry in entries if entry != PUBLIC_HOSTS]
            try:
                allowed = parse_allowed_hosts(own) if own else ()
            except ValueError as error:
                problems.append(f"{where}: {error}")
                continue
            for kind in PROBES:
                probe = container.get(kind, {}).get("httpGet")
                if probe is None:
                    continue  # check_probes names it
                hosts = [h["value"] for h in probe.get("httpHeaders", []) if h["name"] == "Host"]
                if not hosts or not host_is_allowed(hosts[0], allowed):
                    problems.append(f"{where}: its {kind} names no host it allows")
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


def _only_pods_of(peer: Doc, allowed: list[str], labels: dict[str, dict[str, str]]) -> bool:
    """Whether a peer is pods of this namespace, some of *allowed* and none of the others."""
    if set(peer) != {"podSelector"}:
        return False
    chosen = {name for name, pod in labels.items() if selects(peer["podSelector"], pod)}
    return bool(chosen) and chosen <= set(allowed)


def callers_of(registry: Registry, service: Deployable) -> list[str]:
    """Who may reach a service: the gateway, and the services that call it."""
    return [registry.gateway.name, *(d.name for d in registry.services if service.name in d.calls)]


def check_network_policies(docs: list[Doc], registry: Registry) -> list[str]:
    """Deny by default; DNS for all; into a service only from the gateway and its callers.

    Each of those may reach it (its ingress and their egress); PostgreSQL only
    for what has tables (and the jobs, the migrations); Redis for the gateway;
    the ingress controller to the gateway.
    """
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
    for service in registry.services:
        name = service.name
        if name not in labels:
            continue
        allowed = callers_of(registry, service)
        rules = [
            r
            for p in _policies(docs, labels[name], "Ingress")
            for r in p["spec"].get("ingress", [])
        ]
        for rule in rules:
            peers = rule.get("from", [])
            if not peers or not all(_only_pods_of(peer, allowed, labels) for peer in peers):
                problems.append(f"{name} may be reached from more than {allowed}: {peers}")
        port = containers(workloads[name])[0]["ports"][0]
        for caller in (c for c in allowed if c in labels):
            if not any(
                _rule_allows(r, "from", number_or_name, labels[caller])
                for r in rules
                for number_or_name in (port["containerPort"], port.get("name", ""))
            ):
                problems.append(f"{caller} may not reach {name} (ingress)")
            if not allows_egress(docs, labels[caller], port["containerPort"], labels[name]):
                problems.append(f"{caller} may not reach {name} (egress)")
    for d in registry.values():
        if d.name not in labels:
            continue
        reaches = allows_egress(docs, labels[d.name], POSTGRES, None)
        if (d.database or d.kind == "job") and not reaches:
            problems.append(f"{d.name} may not reach PostgreSQL (egress to {POSTGRES})")
        if not (d.database or d.kind == "job") and reaches:
            problems.append(f"{d.name} has no tables but may reach PostgreSQL")
    gateway = registry.gateway.name
    if gateway in labels:
        if not allows_egress(docs, labels[gateway], REDIS, None):
            problems.append(f"the gateway may not reach Redis (egress to {REDIS})")
        if not any(
            _rule_allows(rule, "from", "http", None)
            for policy in _policies(docs, labels[gateway], "Ingress")
            for rule in policy["spec"].get("ingress", [])
        ):
            problems.append("the ingress controller may not reach the gateway")
    return problems


def _http_port(workload: Doc) -> int | None:
    for port in containers(workload)[0].get("ports", []):
        if port.get("name") == "http":
            number: int = port["containerPort"]
            return number
    return None


def check_deployables(docs: list[Doc], registry: Registry) -> list[str]:
    """Each deployable of the registry is deployed from its image on its port; nothing else is.

    A service or the gateway: a Deployment and a Service of its name, its
    container's ``http`` port and the Service's the registry's port; a job: a
    Job of its name.
    """
    pattern = image_pattern(registry)
    problems = []
    for d in registry.values():
        kind = "Job" if d.kind == "job" else "Deployment"
        try:
            workload = find(docs, kind, d.name)
        except KeyError:
            problems.append(f"{d.name}: no {kind}")
            continue
        match = pattern.match(containers(workload)[0].get("image", ""))
        if match is None or match["name"] != d.name:
            problems.append(f"{d.name}: its container is not {d.image}")
        if d.kind == "job":
            continue
        if _http_port(workload) != d.port:
            problems.append(f"{d.name}: containerPort {_http_port(workload)}, not {d.port}")
        try:
            service = find(docs, "Service", d.name)
        except KeyError:
            problems.append(f"{d.name}: no Service")
            continue
        ports = [p["port"] for p in service["spec"].get("ports", []) if p.get("name") == "http"]
        if ports != [d.port]:
            problems.append(f"{d.name}: the Service's http port is {ports}, not {d.port}")
    for doc in of_kind(docs, "Deployment", "Job", "Service"):
        if doc["metadata"]["name"] not in registry:
            problems.append(f"{name_of(doc)} is no deployable of the registry")
    return problems


def check_routes(docs: list[Doc], registry: Registry) -> list[str]:
    """The gateway has every service's ``<NAME>_URL``, a service those of its calls, and no other.

    Each at the callee's Service on the registry's port (check_upstream_urls
    checks that the Service reaches it).
    """
    problems = []
    for caller in [registry.gateway, *registry.services]:
        try:
            env = env_of(containers(find(docs, "Deployment", caller.name))[0])
        except KeyError:
            continue  # check_deployables names it
        callees = (
            registry.services if caller.kind == "gateway" else [registry[c] for c in caller.calls]
        )
        wanted = {c.url_setting: f"http://{c.name}:{c.port}" for c in callees}
        for variable, url in wanted.items():
            value = env.get(variable, {}).get("value")
            if value != url:
                problems.append(f"{caller.name}: {variable} is {value!r}, not {url}")
        urls = {v for v in env if v.endswith("_URL") and v not in OTHER_URLS}
        for extra in sorted(urls - set(wanted)):
            problems.append(f"{caller.name}: {extra} is no service it reaches")
    return problems


def check_databases(docs: list[Doc], registry: Registry) -> list[str]:
    """What has tables (and the jobs) gets DATABASE_URL; nothing else does (least privilege)."""
    problems = []
    for d in registry.values():
        kind = "Job" if d.kind == "job" else "Deployment"
        try:
            env = env_of(containers(find(docs, kind, d.name))[0])
        except KeyError:
            continue
        needs = d.database or d.kind == "job"
        if needs and "DATABASE_URL" not in env:
            problems.append(f"{d.name}: has tables but no DATABASE_URL")
        if not needs and "DATABASE_URL" in env:
            problems.append(f"{d.name}: has no tables but gets DATABASE_URL")
    return problems


def check_readiness(docs: list[Doc], registry: Registry) -> list[str]:
    """A service is ready on /readyz (its database answers); the gateway on its own /healthz.

    The gateway's /readyz asks every service: one service down must not take
    the front door out of rotation. Started and alive: /healthz, for all.
    """
    problems = []
    for d in registry.values():
        if d.kind == "job":
            continue
        try:
            container = containers(find(docs, "Deployment", d.name))[0]
        except KeyError:
            continue
        ready = "/readyz" if d.kind == "service" else "/healthz"
        wanted = {"startupProbe": "/healthz", "readinessProbe": ready, "livenessProbe": "/healthz"}
        for probe, path in wanted.items():
            got = container.get(probe, {}).get("httpGet", {}).get("path")
            if got != path:
                problems.append(f"{d.name}: {probe} on {got!r}, not {path}")
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
    "hosts": check_hosts,
    "network policies": check_network_policies,
    "deployables": check_deployables,
    "routes": check_routes,
    "databases": check_databases,
    "readiness": check_readiness,
}


# -- the overlays ----------------------------------------------------------------------------


def _spread_over_nodes(deployment: Doc) -> bool:
    return any(
        c.get("topologyKey") == "kubernetes.io/hostname"
        and selects(c.get("labelSelector"), pod_labels(deployment))
        for c in pod_spec(deployment).get("topologySpreadConstraints", [])
    )


def check_dev(docs: list[Doc], registry: Registry) -> list[str]:
    """dev: one replica of each (and an HPA from one)."""
    problems = [
        f"{name_of(d)}: {d['spec'].get('replicas')} replicas, not 1"
        for d in of_kind(docs, "Deployment")
        if d["spec"].get("replicas") != 1
    ]
    problems += [
        f"{name_of(h)}: minReplicas {h['spec'].get('minReplicas')}, not 1"
        for h in of_kind(docs, "HorizontalPodAutoscaler")
        if h["spec"].get("minReplicas") != 1
    ]
    return problems


def check_prod(docs: list[Doc], registry: Registry) -> list[str]:
    """prod: two replicas of each at least, spread over nodes, of images pinned by tag or digest;
    the Ingress's hosts among the public hosts the apps allow.

    What the base gives a Deployment the overlay forgets (one replica, images
    tagged latest, no spread, the base's public hosts) fails here.
    """
    pattern = image_pattern(registry)
    problems = []
    for deployment in of_kind(docs, "Deployment"):
        if deployment["spec"].get("replicas", 1) < 2:
            problems.append(f"{name_of(deployment)}: fewer than two replicas")
        if not _spread_over_nodes(deployment):
            problems.append(f"{name_of(deployment)}: not spread over nodes")
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        if hpa["spec"].get("minReplicas", 1) < 2:
            problems.append(f"{name_of(hpa)}: minReplicas below two")
    for workload in of_kind(docs, "Deployment", "Job"):
        for container in containers(workload):
            image = container.get("image", "")
            match = pattern.match(image)
            if match is None or (match["tag"] in {None, "latest"} and "@sha256:" not in image):
                problems.append(f"{name_of(workload)}: image {image!r} is not pinned")
    hosts = [r.get("host") for i in of_kind(docs, "Ingress") for r in i["spec"].get("rules", [])]
    if None in hosts:
        problems.append("an Ingress rule for any host")
    for deployment in of_kind(docs, "Deployment"):
        public = public_hosts(docs, containers(deployment)[0])
        for host in (h for h in hosts if h is not None):
            if public is None or not host_is_allowed(host, parse_allowed_hosts(public)):
                problems.append(f"{name_of(deployment)}: PUBLIC_HOSTS does not allow {host}")
    return problems


OVERLAY_CHECKS: dict[str, Check] = {"dev": check_dev, "prod": check_prod}
