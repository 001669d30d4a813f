"""The Kubernetes manifests, rendered with Kustomize and checked offline.

Each kustomization (the base and both overlays) is rendered with ``kubectl
kustomize``; every document must pass ``kubernetes-validate --strict`` and the
checks of `docker.k8s.manifests`, which a schema cannot make, against the
registry of deployables (deployables.py): every deployable deployed as the
registry says, and nothing else of ours.

Each check is also run on a small manifest built here, once as it is (no
problem) and once broken in the way the check is for (a problem), so that every
check is known to fail when it should; and the rendered manifests with one
deployable taken out must fail. Without kubectl the rendering tests skip
(they fail with ``REQUIRE_CONTAINERS=1``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import kubernetes_validate
import pytest

from core.registry import read
from deployables import deployables
from docker.k8s.manifests import (
    CHECKS,
    KUBERNETES_VERSION,
    KUSTOMIZATIONS,
    NAME,
    OVERLAY_CHECKS,
    PROBES,
    SECRET_NAME,
    USER,
    Doc,
    containers,
    env_of,
    find,
    name_of,
    of_kind,
    pod_labels,
    pod_spec,
    render,
    validate_documents,
)

REGISTRY = read(deployables())


# -- the rendered manifests ------------------------------------------------------------------


def rendered_as(name: str) -> list[Doc]:
    return render(KUSTOMIZATIONS[name])


@pytest.fixture(params=sorted(KUSTOMIZATIONS))
def rendered(request: pytest.FixtureRequest) -> list[Doc]:
    name: str = request.param
    return rendered_as(name)


def test_the_validation_version_is_bundled() -> None:
    bundled = {".".join(v.split(".")[:2]) for v in kubernetes_validate.utils.all_versions()}
    assert KUBERNETES_VERSION in bundled


def test_every_document_is_valid_kubernetes(rendered: list[Doc]) -> None:
    assert validate_documents(rendered) == []


@pytest.mark.parametrize("check", CHECKS)
def test_the_rendered_manifests_pass(rendered: list[Doc], check: str) -> None:
    assert CHECKS[check](rendered, REGISTRY) == []


@pytest.mark.parametrize("overlay", OVERLAY_CHECKS)
def test_each_overlay_passes_its_own_checks(overlay: str) -> None:
    assert OVERLAY_CHECKS[overlay](rendered_as(overlay), REGISTRY) == []


def _without(docs: list[Doc], name: str) -> list[Doc]:
    """The documents with every trace of deployable *name* taken out (as if forgotten)."""
    return [
        doc
        for doc in docs
        if doc["metadata"]["name"] != name
        and doc.get("metadata", {}).get("labels", {}).get(NAME) != name
    ]


@pytest.mark.parametrize("name", list(REGISTRY))
def test_a_deployable_the_manifests_forget_is_reported(name: str) -> None:
    problems = CHECKS["deployables"](_without(rendered_as("base"), name), REGISTRY)
    assert any(problem.startswith(f"{name}: no ") for problem in problems), problems


@pytest.mark.parametrize("name", [d.name for d in REGISTRY.services])
def test_a_service_the_gateway_or_its_policies_forget_is_reported(name: str) -> None:
    docs = rendered_as("base")
    gateway = containers(find(docs, "Deployment", "gateway"))[0]
    url = REGISTRY[name].url_setting
    gateway["env"] = [var for var in gateway["env"] if var["name"] != url]
    assert f"gateway: {url} is None, not http://{name}:{REGISTRY[name].port}" in CHECKS["routes"](
        docs, REGISTRY
    )
    policy = find(docs, "NetworkPolicy", "gateway")["spec"]
    policy["egress"] = [
        rule
        for rule in policy["egress"]
        if not any(
            peer.get("podSelector", {}).get("matchLabels") == {NAME: name}
            for peer in rule.get("to", [])
        )
    ]
    assert f"gateway may not reach {name} (egress)" in CHECKS["network policies"](docs, REGISTRY)


@pytest.mark.parametrize("name", [d.name for d in REGISTRY.services] + [REGISTRY.gateway.name])
def test_a_deployment_the_prod_overlay_forgets_is_reported(name: str) -> None:
    """What the base gives it: one replica, its image tagged latest, no spread."""
    docs = rendered_as("prod")
    base = find(rendered_as("base"), "Deployment", name)
    forgotten = find(docs, "Deployment", name)
    forgotten["spec"]["replicas"] = base["spec"]["replicas"]
    pod_spec(forgotten).pop("topologySpreadConstraints")
    containers(forgotten)[0]["image"] = containers(base)[0]["image"]
    problems = OVERLAY_CHECKS["prod"](docs, REGISTRY)
    assert {
        f"Deployment/{name}: fewer than two replicas",
        f"Deployment/{name}: not spread over nodes",
        f"Deployment/{name}: image 'flask-blueprint/{name}:latest' is not pinned",
    } <= set(problems), problems


def test_a_dev_deployment_scaled_up_is_reported() -> None:
    docs = rendered_as("dev")
    find(docs, "Deployment", "gateway")["spec"]["replicas"] = 2
    assert OVERLAY_CHECKS["dev"](docs, REGISTRY) == ["Deployment/gateway: 2 replicas, not 1"]


def test_every_part_is_rendered(rendered: list[Doc]) -> None:
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in rendered}
    for d in REGISTRY.values():
        wanted = (
            ("Job",)
            if d.kind == "job"
            else ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget")
        )
        for kind in wanted:
            assert (kind, d.name) in kinds
    assert ("Ingress", "gateway") in kinds
    assert ("NetworkPolicy", "default-deny") in kinds
    for doc in rendered:
        labels = doc["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/part-of") == "flask-blueprint", name_of(doc)
    for workload in of_kind(rendered, "Deployment", "Job"):
        for key in (NAME, "app.kubernetes.io/component", "app.kubernetes.io/part-of"):
            assert key in pod_labels(workload), f"{name_of(workload)}: pods lack {key}"


def test_database_urls_and_rate_limits_come_from_the_secret_and_the_config(
    rendered: list[Doc],
) -> None:
    env = env_of(containers(find(rendered, "Deployment", "gateway"))[0])
    assert "configMapKeyRef" in env["RATELIMIT_STORAGE_URI"]["valueFrom"]
    for d in REGISTRY.values():
        if d.database or d.kind == "job":
            kind = "Job" if d.kind == "job" else "Deployment"
            env = env_of(containers(find(rendered, kind, d.name))[0])
            assert "secretKeyRef" in env["DATABASE_URL"]["valueFrom"], d.name


def test_the_ingress_goes_to_the_gateway(rendered: list[Doc]) -> None:
    gateway = find(rendered, "Service", "gateway")
    for rule in find(rendered, "Ingress", "gateway")["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "gateway"
            assert backend["port"]["name"] in {p["name"] for p in gateway["spec"]["ports"]}


def test_the_migration_job_is_bounded() -> None:
    for name in KUSTOMIZATIONS:
        job = find(rendered_as(name), "Job", "migrate")["spec"]
        assert job["backoffLimit"] > 0 and job["ttlSecondsAfterFinished"] > 0
        assert job["template"]["spec"]["restartPolicy"] in {"Never", "OnFailure"}


def test_the_overlays_are_namespaced() -> None:
    for name in ("dev", "prod"):
        docs = rendered_as(name)
        namespaces = [doc["metadata"]["name"] for doc in of_kind(docs, "Namespace")]
        assert len(namespaces) == 1, name
        for doc in docs:
            if doc["kind"] != "Namespace":
                assert doc["metadata"].get("namespace") == namespaces[0], name_of(doc)


def test_prod_serves_its_host_with_tls() -> None:
    ingress = find(rendered_as("prod"), "Ingress", "gateway")["spec"]
    assert [rule.get("host") for rule in ingress["rules"]] == ["api.example.com"]
    assert ingress["tls"] == [{"hosts": ["api.example.com"], "secretName": "api-example-com-tls"}]


def test_prod_gives_more_resources_than_dev() -> None:
    def memory(name: str) -> str:
        deployment = find(rendered_as(name), "Deployment", "entity")
        limit: str = containers(deployment)[0]["resources"]["limits"]["memory"]
        return limit

    assert (memory("dev"), memory("prod")) == ("320Mi", "512Mi")


# -- the checks themselves, on a small manifest ----------------------------------------------


# math, and calc (with tables) that calls math, behind the gateway.
SMALL_REGISTRY = read(
    {
        "math": {
            "kind": "service",
            "target": "services/math:serve",
            "port": 8002,
            "prefixes": ["/api/math"],
        },
        "calc": {
            "kind": "service",
            "target": "services/calc:serve",
            "port": 8009,
            "prefixes": ["/api/calc"],
            "database": True,
            "calls": ["math"],
        },
        "gateway": {"kind": "gateway", "target": "services/gateway:serve", "port": 8000},
    }
)


def _app(name: str, port: int, env: list[Doc]) -> list[Doc]:
    labels = {NAME: name, "app.kubernetes.io/component": "service"}
    context: Doc = {
        "runAsNonRoot": True,
        "runAsUser": USER,
        "runAsGroup": USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    host = [{"name": "Host", "value": name}]
    probe: Doc = {"httpGet": {"path": "/healthz", "port": "http", "httpHeaders": host}}
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
                "name": "PUBLIC_HOSTS",
                "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "PUBLIC_HOSTS"}},
            },
            {"name": "ALLOWED_HOSTS", "value": f"$(PUBLIC_HOSTS),{name}"},
            {
                "name": "LOG_LEVEL",
                "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "LOG_LEVEL"}},
            },
            {"name": "SECRET_KEY", "valueFrom": secret},
            {"name": "JWT_SECRET", "valueFrom": jwt},
            *env,
        ],
        **{kind: copy.deepcopy(probe) for kind in PROBES},
        "readinessProbe": {
            "httpGet": {
                "path": "/healthz" if name == "gateway" else "/readyz",
                "port": "http",
                "httpHeaders": copy.deepcopy(host),
            }
        },
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


def _pods(name: str) -> Doc:
    return {"podSelector": {"matchLabels": {NAME: name}}}


def small_manifest() -> list[Doc]:
    """SMALL_REGISTRY deployed, with the policies between them: passes every check."""
    gateway_pods = _pods("gateway")
    database = {"secretKeyRef": {"name": SECRET_NAME, "key": "DATABASE_URL"}}
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cfg"},
            "data": {"LOG_LEVEL": "INFO", "PUBLIC_HOSTS": "api.example.com"},
        },
        *_app("math", 8002, []),
        *_app(
            "calc",
            8009,
            [
                {"name": "DATABASE_URL", "valueFrom": database},
                {"name": "MATH_URL", "value": "http://math:8002"},
            ],
        ),
        *_app(
            "gateway",
            8000,
            [
                {"name": "MATH_URL", "value": "http://math:8002"},
                {"name": "CALC_URL", "value": "http://calc:8009"},
            ],
        ),
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
                    {"to": [_pods("calc")], "ports": [{"port": 8009}]},
                ],
            },
        ),
        _policy(
            "calc",
            {
                "podSelector": {"matchLabels": {NAME: "calc"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [gateway_pods], "ports": [{"port": "http"}]}],
                "egress": [
                    {"ports": [{"port": 5432}]},
                    {"to": [_pods("math")], "ports": [{"port": 8002}]},
                ],
            },
        ),
        _policy(
            "math-from-calc",
            {
                "podSelector": {"matchLabels": {NAME: "math"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [_pods("calc")], "ports": [{"port": "http"}]}],
            },
        ),
    ]


def _container(docs: list[Doc], name: str = "math") -> Doc:
    return containers(find(docs, "Deployment", name))[0]


def _env(docs: list[Doc], name: str, variable: str) -> Doc:
    return env_of(_container(docs, name))[variable]


def _drop_env(docs: list[Doc], name: str, variable: str) -> None:
    container = _container(docs, name)
    container["env"] = [var for var in container["env"] if var["name"] != variable]


def _stranger(docs: list[Doc]) -> None:
    stranger = copy.deepcopy(find(docs, "Deployment", "math"))
    stranger["metadata"]["name"] = "stats"
    docs.append(stranger)


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
    "the callee closed to its caller": (
        "network policies",
        lambda d: d.remove(find(d, "NetworkPolicy", "math-from-calc")),
    ),
    "the caller may not reach its callee": (
        "network policies",
        lambda d: find(d, "NetworkPolicy", "calc")["spec"]["egress"].pop(1),
    ),
    "a service open to one that does not call it": (
        "network policies",
        lambda d: d.append(
            _policy(
                "calc-from-math",
                {
                    "podSelector": {"matchLabels": {NAME: "calc"}},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [_pods("math")]}],
                },
            )
        ),
    ),
    "tables out of reach": (
        "network policies",
        lambda d: find(d, "NetworkPolicy", "calc")["spec"]["egress"].pop(0),
    ),
    "PostgreSQL open to a service without tables": (
        "network policies",
        lambda d: find(d, "NetworkPolicy", "math")["spec"].update(
            policyTypes=["Ingress", "Egress"], egress=[{"ports": [{"port": 5432}]}]
        ),
    ),
    "a deployable not deployed": (
        "deployables",
        lambda d: d.remove(find(d, "Deployment", "calc")),
    ),
    "a deployable without its Service": (
        "deployables",
        lambda d: d.remove(find(d, "Service", "calc")),
    ),
    "a Deployment not in the registry": ("deployables", _stranger),
    "a container port not the registry's": (
        "deployables",
        lambda d: _container(d)["ports"][0].update(containerPort=8080),
    ),
    "a Service port not the registry's": (
        "deployables",
        lambda d: find(d, "Service", "math")["spec"]["ports"][0].update(port=80),
    ),
    "another deployable's image": (
        "deployables",
        lambda d: _container(d).update(image="flask-blueprint/calc:1.0"),
    ),
    "the gateway without a service's URL": (
        "routes",
        lambda d: _drop_env(d, "gateway", "CALC_URL"),
    ),
    "a caller without its callee's URL": ("routes", lambda d: _drop_env(d, "calc", "MATH_URL")),
    "a URL of a service not called": (
        "routes",
        lambda d: _container(d)["env"].append({"name": "CALC_URL", "value": "http://calc:8009"}),
    ),
    "a URL on another port": (
        "routes",
        lambda d: _env(d, "calc", "MATH_URL").update(value="http://math:80"),
    ),
    "an app without ALLOWED_HOSTS": ("hosts", lambda d: _drop_env(d, "gateway", "ALLOWED_HOSTS")),
    "an app without the public hosts": (
        "hosts",
        lambda d: _env(d, "math", "ALLOWED_HOSTS").update(value="math"),
    ),
    "the public hosts set after their use": (
        "hosts",
        lambda d: _container(d)["env"].append(_container(d)["env"].pop(3)),
    ),
    "the public hosts from no ConfigMap key": (
        "hosts",
        lambda d: _env(d, "math", "PUBLIC_HOSTS").update(value="api.example.com", valueFrom=None),
    ),
    "public hosts that are no hosts": (
        "hosts",
        lambda d: d[0]["data"].update(PUBLIC_HOSTS="https://api.example.com/"),
    ),
    "a service not allowing its Service's name": (
        "hosts",
        lambda d: _env(d, "calc", "ALLOWED_HOSTS").update(value="$(PUBLIC_HOSTS),math"),
    ),
    "a probe on the pod's address": (
        "hosts",
        lambda d: _container(d)["livenessProbe"]["httpGet"].pop("httpHeaders"),
    ),
    "tables without DATABASE_URL": ("databases", lambda d: _drop_env(d, "calc", "DATABASE_URL")),
    "DATABASE_URL without tables": (
        "databases",
        lambda d: _container(d)["env"].append(copy.deepcopy(_env(d, "calc", "DATABASE_URL"))),
    ),
    "a service ready without its database": (
        "readiness",
        lambda d: _container(d)["readinessProbe"]["httpGet"].update(path="/healthz"),
    ),
    "the gateway unready when one service is down": (
        "readiness",
        lambda d: _container(d, "gateway")["readinessProbe"]["httpGet"].update(path="/readyz"),
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
    assert {name: CHECKS[name](docs, SMALL_REGISTRY) for name in CHECKS} == {
        name: [] for name in CHECKS
    }


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_each_check_finds_its_breakage(breakage: str) -> None:
    check, breaks = BREAKAGES[breakage]
    docs = small_manifest()
    breaks(docs)
    assert CHECKS[check](_clean(docs), SMALL_REGISTRY), f"{check} did not notice: {breakage}"


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
