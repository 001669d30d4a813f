"""A new service's entries in the Compose files and the Kubernetes manifests.

The scaffolder calls `add_to_compose` and `add_to_kubernetes` with the new
service's `Deployable`. They edit text, not YAML trees, so that every comment
and the layout stay: each entry goes above a marker line of its file
(``# new services...: above this line``), and a new service's manifest is a
copy of ``base/entity.yaml`` (a service with tables) or ``base/math.yaml``
(without), renamed. Everything is read and checked before anything is
written, so a refusal (`ValueError`: the service is already there, a callee
or a marker is missing) leaves every file as it was.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import yaml

from core.registry import Deployable

__all__ = ["add_to_compose", "add_to_kubernetes"]

MIGRATE = "migrate"  # the job a service with tables waits for
GATEWAY = "gateway"
# A service with tables is modelled on entity, one without on math.
MODELS = {True: "entity", False: "math"}


# -- text ------------------------------------------------------------------------------------


def insert_above(text: str, marker: str, block: str, where: str) -> str:
    """*text* with *block* inserted above its one line that is *marker* (a comment)."""
    lines = text.splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if line.strip() == marker]
    if len(found) != 1:
        raise ValueError(f"{where}: {len(found)} lines {marker!r}, not one")
    return "".join([*lines[: found[0]], block, *lines[found[0] :]])


def _comment(text: str) -> str:
    return textwrap.fill(text, width=78, initial_indent="# ", subsequent_indent="# ") + "\n"


def _scalar(value: str) -> str:
    """*value* as a YAML scalar: plain when YAML reads it back the same, else quoted."""
    loaded = yaml.safe_load(f"key: {value}")
    return value if loaded == {"key": value} else json.dumps(value)


def _port_of(deployable: Deployable) -> int:
    """A service's port; the gateway and the jobs are no new services."""
    if deployable.kind != "service" or deployable.port is None:
        raise ValueError(f"{deployable.name}: a {deployable.kind}, not a service with a port")
    return deployable.port


# -- Compose ---------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML that reads Compose's merge tags (``!reset``, ``!override``) as nothing."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _services(path: Path) -> dict[str, Any]:
    services: dict[str, Any] = yaml.load(path.read_text(), Loader=_Loader)["services"]
    return services


def _compose_port(services: dict[str, Any], name: str) -> int:
    """The port of a service of compose.yaml: its PORT, or that setting's default."""
    if name not in services:
        raise ValueError(f"compose.yaml: no service {name!r}")
    port = str((services[name].get("environment") or {}).get("PORT", ""))
    match = re.fullmatch(r"(\d+)|\$\{\w+:-(\d+)\}", port)
    if match is None:
        raise ValueError(f"compose.yaml: {name}'s PORT {port!r} is no port")
    return int(match[1] or match[2])


def _port_setting(name: str, port: int) -> str:
    return f"${{{name.upper()}_PORT:-{port}}}"


def _healthy(name: str) -> str:
    return f"      {name}:\n        condition: service_healthy\n"


def _compose_block(d: Deployable, services: dict[str, Any], callees: dict[str, int]) -> str:
    env = [f"      PORT: {_port_setting(d.name, _port_of(d))}\n"]
    # The public hosts (required), its own name and its healthcheck's 127.0.0.1.
    required = "${ALLOWED_HOSTS:?ALLOWED_HOSTS is required (see docker/.env.example)}"
    hosts = f"{required},{d.name},127.0.0.1"
    env.append(f"      ALLOWED_HOSTS: {_scalar(hosts)}\n")
    waits = []
    if d.database:
        if MIGRATE not in services:
            raise ValueError(f"compose.yaml: no {MIGRATE} service for {d.name}'s tables")
        database = services[MIGRATE]["environment"]["DATABASE_URL"]
        env.append(f"      DATABASE_URL: {_scalar(database)}\n")
        waits.append(f"      {MIGRATE}:\n        condition: service_completed_successfully\n")
    env.append("      TRUSTED_PROXY_HOPS: 1\n")
    for callee, port in callees.items():
        setting = f"{callee.upper()}_URL"
        env.append(f"      {setting}: ${{{setting}:-http://{callee}:{port}}}\n")
        waits.append(_healthy(callee))
    block = (
        f"  {d.name}:\n    <<: *service\n    image: {d.image}:latest\n"
        "    environment:\n      <<: *settings\n" + "".join(env)
    )
    if waits:
        block += "    depends_on:\n" + "".join(waits)
    return block + "\n"


def _host_block(d: Deployable, callees: dict[str, int]) -> str:
    block = f"  {d.name}:\n    network_mode: host\n"
    if callees:
        block += "    environment:\n" + "".join(
            f"      {callee.upper()}_URL: http://127.0.0.1:{_port_setting(callee, port)}\n"
            for callee, port in callees.items()
        )
    return block


def add_to_compose(compose_dir: Path, deployable: Deployable) -> None:
    """Run *deployable* (a service) in compose.yaml, on the host network, behind the gateway.

    Its container waits for the migrations (with tables) and for the services
    it calls; the gateway waits for it and gets its ``<NAME>_URL``;
    .env.example names its ``<NAME>_PORT``.
    """
    d, port = deployable, _port_of(deployable)
    base_path = compose_dir / "compose.yaml"
    host_path = compose_dir / "compose.host.yaml"
    env_path = compose_dir / ".env.example"
    services = _services(base_path)
    if d.name in services or d.name in _services(host_path):
        raise ValueError(f"{d.name} is already in {base_path.parent}'s Compose files")
    callees = {callee: _compose_port(services, callee) for callee in d.calls}

    base = base_path.read_text()
    base = insert_above(
        base,
        "# new services: above this line",
        _compose_block(d, services, callees),
        "compose.yaml",
    )
    url = f"      {d.url_setting}: ${{{d.url_setting}:-http://{d.name}:{port}}}\n"
    base = insert_above(base, "# new services' URLs: above this line", url, "compose.yaml")
    base = insert_above(
        base, "# new services' health: above this line", _healthy(d.name), "compose.yaml"
    )

    host = host_path.read_text()
    host = insert_above(
        host, "# new services: above this line", _host_block(d, callees), "compose.host.yaml"
    )
    url = f"      {d.url_setting}: http://127.0.0.1:{_port_setting(d.name, port)}\n"
    host = insert_above(host, "# new services' URLs: above this line", url, "compose.host.yaml")
    host = insert_above(
        host, "# new services' health: above this line", _healthy(d.name), "compose.host.yaml"
    )

    line = f"# {d.name.upper()}_PORT={port}\n"
    env = insert_above(
        env_path.read_text(), "# new services' ports: above this line", line, ".env.example"
    )

    for path, text in ((base_path, base), (host_path, host), (env_path, env)):
        path.write_text(text)


# -- Kubernetes ------------------------------------------------------------------------------


def _container_port(base: Path, name: str) -> int:
    """The container port of *name*'s manifest, ``base/<name>.yaml``."""
    path = base / f"{name}.yaml"
    match = re.search(r"containerPort: (\d+)", path.read_text()) if path.exists() else None
    if match is None:
        raise ValueError(f"{path}: no manifest with a containerPort for {name}")
    return int(match[1])


def _header(d: Deployable) -> str:
    about = f"{d.name}: a service of the registry (deployables.py)"
    if d.database:
        about += ", on PostgreSQL (DATABASE_URL from the Secret)"
    if d.calls:
        about += "; it calls " + ", ".join(f"{c} ({c.upper()}_URL)" for c in d.calls)
    if d.database:
        about += (
            ". Ready (/readyz) only while its database answers; its tables come from"
            " the migrate Job, never from the service itself."
        )
    else:
        about += ". Ready (/readyz) as soon as it serves."
    return _comment(about)


def _manifest(base: Path, d: Deployable, callees: dict[str, int]) -> str:
    """``base/<name>.yaml``: the model's manifest renamed, with the URLs of its calls."""
    model = MODELS[d.database]
    text = (base / f"{model}.yaml").read_text()
    model_port = _container_port(base, model)
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)  # the model's own description: _header writes this one's
    body = "".join(lines)
    body = re.sub(rf"\b{model}\b", d.name, body)
    body = re.sub(rf"\b{model.upper()}_", f"{d.name.upper()}_", body)
    body = re.sub(rf"\b{model_port}\b", str(_port_of(d)), body)
    if callees:
        hops = re.search(r'^( *)- name: TRUSTED_PROXY_HOPS\n *value: "1"\n', body, re.MULTILINE)
        if hops is None:
            raise ValueError(f"base/{model}.yaml: no TRUSTED_PROXY_HOPS to put the URLs after")
        indent = hops[1]
        urls = "".join(
            f"{indent}- name: {callee.upper()}_URL\n{indent}  value: http://{callee}:{port}\n"
            for callee, port in callees.items()
        )
        body = body[: hops.end()] + urls + body[hops.end() :]
    return _header(d) + body


def _pods(name: str, indent: str) -> str:
    return (
        f"{indent}- podSelector:\n{indent}    matchLabels:\n"
        f"{indent}      app.kubernetes.io/name: {name}\n"
    )


def _egress_to(name: str, port: int) -> str:
    return f"    - to:\n{_pods(name, '        ')}      ports:\n        - protocol: TCP\n          port: {port}\n"


def _policy(name: str, pods: str, types: str, rules: str) -> str:
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata:\n  name: {name}\nspec:\n  podSelector:\n    matchLabels:\n"
        f"      app.kubernetes.io/name: {pods}\n  policyTypes: [{types}]\n{rules}---\n"
    )


def _ingress_from(name: str) -> str:
    return (
        f"  ingress:\n    - from:\n{_pods(name, '        ')}"
        "      ports:\n        - protocol: TCP\n          port: http\n"
    )


def _policies(d: Deployable, callees: dict[str, int]) -> str:
    """Its own policy (from the gateway; to PostgreSQL and its callees) and one per callee."""
    egress = ""
    if d.database:
        egress += "    # PostgreSQL.\n    - ports:\n        - protocol: TCP\n          port: 5432\n"
    for callee, port in callees.items():
        egress += f"    # {callee}, at {callee.upper()}_URL.\n" + _egress_to(callee, port)
    types = "Ingress, Egress" if egress else "Ingress"
    own = _policy(
        d.name, d.name, types, _ingress_from(GATEWAY) + (f"  egress:\n{egress}" if egress else "")
    )
    return own + "".join(
        f"# {d.name} calls {callee} ({callee.upper()}_URL).\n"
        + _policy(f"{callee}-from-{d.name}", callee, "Ingress", _ingress_from(d.name))
        for callee in callees
    )


def _overlay(directory: Path, d: Deployable, texts: dict[Path, str]) -> None:
    """Add *d* to an overlay's lists of services (replicas, images, spread), as the gateway is."""
    path = directory / "kustomization.yaml"
    text = path.read_text()
    where = f"{directory.name}/kustomization.yaml"
    replicas = re.search(rf"^  - name: {GATEWAY}\n    count: (\d+)\n", text, re.MULTILINE)
    if replicas:
        entry = f"  - name: {d.name}\n    count: {replicas[1]}\n"
        text = insert_above(text, "# new services: above this line", entry, where)
    image = re.search(
        rf"^  - name: flask-blueprint/{GATEWAY}\n((?:    \w+: .*\n)+)", text, re.MULTILINE
    )
    if image:
        entry = f"  - name: {d.image}\n{image[1]}"
        text = insert_above(text, "# new services' images: above this line", entry, where)
    texts[path] = text
    spread = directory / "spread.yaml"
    if spread.exists():
        docs = spread.read_text()
        gateway = next(
            (
                doc
                for doc in docs.split("---\n")
                if re.search(rf"^  name: {GATEWAY}$", doc, re.MULTILINE)
            ),
            None,
        )
        if gateway is None:
            raise ValueError(f"{directory.name}/spread.yaml: no {GATEWAY} to copy")
        gateway = "".join(
            line for line in gateway.splitlines(keepends=True) if not line.startswith("#")
        )
        entry = re.sub(rf"\b{GATEWAY}\b", d.name, gateway) + "---\n"
        texts[spread] = insert_above(
            docs, "# new services: above this line", entry, f"{directory.name}/spread.yaml"
        )


def add_to_kubernetes(k8s_dir: Path, deployable: Deployable) -> None:
    """Deploy *deployable* (a service): its manifest, its routes and policies, its overlay entries.

    ``base/<name>.yaml`` (Deployment, Service, HPA, PDB) in the base's
    resources; the gateway's ``<NAME>_URL``; NetworkPolicies from the gateway
    to it and from it to the services it calls (and PostgreSQL, with tables);
    in each overlay that lists the services, its replicas, image tag and
    spread, as the gateway's.
    """
    d, port = deployable, _port_of(deployable)
    base = k8s_dir / "base"
    manifest = base / f"{d.name}.yaml"
    kustomization = base / "kustomization.yaml"
    resources = kustomization.read_text()
    if manifest.exists() or re.search(rf"^  - {d.name}\.yaml$", resources, re.MULTILINE):
        raise ValueError(f"{d.name} is already in {base}")
    callees = {callee: _container_port(base, callee) for callee in d.calls}

    texts: dict[Path, str] = {manifest: _manifest(base, d, callees)}
    texts[kustomization] = insert_above(
        resources,
        "# new services: above this line",
        f"  - {d.name}.yaml\n",
        "base/kustomization.yaml",
    )
    gateway = base / f"{GATEWAY}.yaml"
    url = f"            - name: {d.url_setting}\n              value: http://{d.name}:{port}\n"
    texts[gateway] = insert_above(
        gateway.read_text(), "# new services' URLs: above this line", url, "base/gateway.yaml"
    )
    policies = base / "networkpolicies.yaml"
    text = insert_above(
        policies.read_text(),
        "# new services' egress: above this line",
        _egress_to(d.name, port),
        "base/networkpolicies.yaml",
    )
    texts[policies] = insert_above(
        text,
        "# new services' policies: above this line",
        _policies(d, callees),
        "base/networkpolicies.yaml",
    )
    for overlay in sorted((k8s_dir / "overlays").glob("*/kustomization.yaml")):
        _overlay(overlay.parent, d, texts)

    for path, text in texts.items():
        path.write_text(text)
