"""The Compose files checked against the registry of deployables, without running them.

Each check takes the files as loaded (a `Stack`) and the registry, and returns
the problems it finds (an empty list: none) instead of asserting: compose_test
runs them on docker/ as it is and on copies broken on purpose, the scaffolder's
tests on copies it has added a service to.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.registry import IMAGE_REPOSITORY, Deployable, Registry

__all__ = [
    "CHECKS",
    "HERE",
    "Stack",
    "check_compose_schema",
    "read_stack",
    "secret_values",
    "unset_secrets",
]

HERE = Path(__file__).parent
SECRETS = ("SECRET_KEY", "POSTGRES_PASSWORD", "JWT_SECRET", "JWT_PUBLIC_KEY")
BUNDLED = ("postgres", "redis")  # not ours: left out on the host's network
# Settings named *_URL that are no service's address.
OTHER_URLS = frozenset({"DATABASE_URL", "JWT_JWKS_URL"})
DEFAULT = re.compile(r"\$\{\w+:-([^}]*)\}")
# The public hosts, required: a value of the operator's, never a default.
PUBLIC_HOSTS = re.compile(r"\$\{ALLOWED_HOSTS:\?[^}]*\}")
LOOPBACK = "127.0.0.1"  # what each app's healthcheck names

Compose = dict[str, Any]


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


@dataclass
class Stack:
    """compose.yaml, its host-network override and .env.example, as read."""

    base: Compose
    host: Compose
    env_example: str


def load(path: Path) -> Compose:
    data: Compose = yaml.load(path.read_text(), Loader=ComposeLoader)
    return data


def read_stack(directory: Path = HERE) -> Stack:
    return Stack(
        base=load(directory / "compose.yaml"),
        host=load(directory / "compose.host.yaml"),
        env_example=(directory / ".env.example").read_text(),
    )


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


# -- reading services ------------------------------------------------------------------------


def environment(service: Compose | None) -> dict[str, Any]:
    env: dict[str, Any] = (service or {}).get("environment") or {}
    return env


def waits_for(service: Compose | None) -> dict[str, Any]:
    """What a service's ``depends_on`` waits for, by name (the list form: started)."""
    depends = (service or {}).get("depends_on") or {}
    if isinstance(depends, list):
        return {name: {"condition": "service_started"} for name in depends}
    found: dict[str, Any] = depends
    return found


def default_of(value: object) -> str:
    """A value with every ``${NAME:-default}`` replaced by its default."""
    return DEFAULT.sub(r"\1", str(value))


def port_setting(deployable: Deployable) -> str:
    """How a deployable's port is written: its registry port, which ``<NAME>_PORT`` changes."""
    return f"${{{deployable.name.upper()}_PORT:-{deployable.port}}}"


def apps(registry: Registry) -> list[Deployable]:
    """The deployables that serve HTTP: the services and the gateway."""
    return [d for d in registry.values() if d.kind != "job"]


def callers(registry: Registry) -> Iterator[tuple[Deployable, list[Deployable]]]:
    """Each app with the services it reaches: the gateway every service, a service its calls."""
    yield registry.gateway, registry.services
    for service in registry.services:
        yield service, [registry[name] for name in service.calls]


def url_settings(env: dict[str, Any]) -> set[str]:
    return {key for key in env if key.endswith("_URL") and key not in OTHER_URLS}


# -- the checks ------------------------------------------------------------------------------


def check_images(stack: Stack, registry: Registry) -> list[str]:
    """Each deployable runs from its image, tagged latest as Pants tags it; nothing else of ours runs."""
    services = stack.base["services"]
    problems = []
    for d in registry.values():
        service = services.get(d.name)
        if service is None:
            problems.append(f"{d.name}: no such service in compose.yaml")
        elif service.get("image") != f"{d.image}:latest":
            problems.append(f"{d.name}: image {service.get('image')!r}, not {d.image}:latest")
    for name, service in services.items():
        image = str(service.get("image", ""))
        if image.startswith(f"{IMAGE_REPOSITORY}/") and name not in registry:
            problems.append(f"{name}: runs {image}, but is no deployable of the registry")
    return problems


def check_ports(stack: Stack, registry: Registry) -> list[str]:
    """Each app listens on its registry port, as ``${<NAME>_PORT:-port}`` (the host network moves it)."""
    services = stack.base["services"]
    problems = []
    for d in apps(registry):
        if d.name not in services:
            continue  # check_images names it
        port = environment(services[d.name]).get("PORT")
        if str(port) != port_setting(d):
            problems.append(f"{d.name}: PORT is {port!r}, not {port_setting(d)}")
    gateway = services.get(registry.gateway.name, {})
    # "host:container", each a number or a ${...} setting: the container's port.
    published = [
        match[1] if (match := re.search(r"(\$\{[^}]*\}|\d+)$", str(p))) else str(p)
        for p in gateway.get("ports", [])
    ]
    if published != [port_setting(registry.gateway)]:
        problems.append(f"the gateway publishes {published}, not its PORT")
    return problems


def allowed_hosts_problems(d: Deployable, value: object) -> list[str]:
    """What an app's ``ALLOWED_HOSTS`` lacks: the required public hosts, its name, 127.0.0.1.

    The public hosts are the gateway's (the clients') and, forwarded by it,
    the services'; the name is how the gateway and callers reach it; the
    loopback address what its healthcheck names.
    """
    if value is None:
        return [f"{d.name}: no ALLOWED_HOSTS"]
    public = PUBLIC_HOSTS.match(str(value))
    problems = [] if public else [f"{d.name}: ALLOWED_HOSTS is not ${{ALLOWED_HOSTS:?...}},..."]
    rest = str(value)[public.end() :] if public else str(value)
    entries = {entry.strip() for entry in rest.split(",")}
    problems += [
        f"{d.name}: ALLOWED_HOSTS does not allow {name}"
        for name in (d.name, LOOPBACK)
        if name not in entries
    ]
    return problems


def check_settings(stack: Stack, registry: Registry) -> list[str]:
    """Everything of ours in prod; each app health-checked on /healthz, a service behind one proxy.

    Each app allows its hosts (`allowed_hosts_problems`).
    """
    services = stack.base["services"]
    problems = []
    for d in registry.values():
        service = services.get(d.name)
        if service is None:
            continue
        env = environment(service)
        if env.get("APP_ENV") != "prod":
            problems.append(f"{d.name}: APP_ENV is not prod")
        if d.kind == "job":
            if service.get("restart") != "no":
                problems.append(f"{d.name}: a job that is restarted")
            continue
        if "healthz" not in " ".join(service.get("healthcheck", {}).get("test", [])):
            problems.append(f"{d.name}: no /healthz healthcheck")
        if d.kind == "service" and env.get("TRUSTED_PROXY_HOPS") != 1:
            problems.append(f"{d.name}: TRUSTED_PROXY_HOPS is not 1 (the gateway)")
        problems += allowed_hosts_problems(d, env.get("ALLOWED_HOSTS"))
        if "ALLOWED_HOSTS" in environment(stack.host["services"].get(d.name)):
            problems.append(f"{d.name}: compose.host.yaml replaces its ALLOWED_HOSTS")
    return problems


def check_databases(stack: Stack, registry: Registry) -> list[str]:
    """A service with tables gets DATABASE_URL and starts once the jobs (the migrations) are done.

    A service without tables gets no DATABASE_URL, and no service migrates itself.
    """
    services = stack.base["services"]
    jobs = registry.of_kind("job")
    problems = []
    for job in jobs:
        service = services.get(job.name)
        if service is None:
            continue
        if "DATABASE_URL" not in environment(service):
            problems.append(f"{job.name}: no DATABASE_URL")
        if waits_for(service).get("postgres") != {"condition": "service_healthy"}:
            problems.append(f"{job.name}: does not wait for PostgreSQL to be healthy")
    for d in apps(registry):
        service = services.get(d.name)
        if service is None:
            continue
        has_url = "DATABASE_URL" in environment(service)
        if d.database and not has_url:
            problems.append(f"{d.name}: has tables but no DATABASE_URL")
        if not d.database and has_url:
            problems.append(f"{d.name}: has no tables but gets DATABASE_URL")
        for job in jobs if d.database else []:
            if waits_for(service).get(job.name) != {"condition": "service_completed_successfully"}:
                problems.append(f"{d.name}: does not wait for {job.name} to complete")
    return problems


def check_routes(stack: Stack, registry: Registry) -> list[str]:
    """The gateway reaches every service, and a service those it calls: ``<NAME>_URL``, healthy first.

    The default address is the callee's service name on its registry port;
    a ``<NAME>_URL`` for anything else is a route to nowhere.
    """
    services = stack.base["services"]
    problems = []
    for caller, callees in callers(registry):
        service = services.get(caller.name)
        if service is None:
            continue
        env = environment(service)
        for extra in sorted(url_settings(env) - {c.url_setting for c in callees}):
            problems.append(f"{caller.name}: {extra} is no service it reaches")
        for callee in callees:
            value = env.get(callee.url_setting)
            want = f"http://{callee.name}:{callee.port}"
            if value is None:
                problems.append(f"{caller.name}: no {callee.url_setting}")
            elif default_of(value) != want:
                problems.append(f"{caller.name}: {callee.url_setting} is {value!r}, not {want}")
            if waits_for(service).get(callee.name) != {"condition": "service_healthy"}:
                problems.append(f"{caller.name}: does not wait for {callee.name} to be healthy")
    return problems


def check_host_network(stack: Stack, registry: Registry) -> list[str]:
    """compose.host.yaml: every container of ours on the host's network, at 127.0.0.1 ports.

    The bundled PostgreSQL and Redis are left out (the host's are used); every
    ``<NAME>_URL`` becomes 127.0.0.1 at the callee's ``<NAME>_PORT``.
    """
    host = stack.host["services"]
    problems = []
    for name in stack.base["services"]:
        override = host.get(name) or {}
        if name in BUNDLED:
            if not override.get("profiles"):
                problems.append(f"{name}: must be left out on the host network (a profile)")
        elif override.get("network_mode") != "host":
            problems.append(f"{name}: not on the host network")
    for caller, callees in callers(registry):
        env = environment(host.get(caller.name))
        for extra in sorted(url_settings(env) - {c.url_setting for c in callees}):
            problems.append(f"{caller.name}: {extra} is no service it reaches (host network)")
        for callee in callees:
            want = f"http://127.0.0.1:{port_setting(callee)}"
            if env.get(callee.url_setting) != want:
                problems.append(
                    f"{caller.name}: {callee.url_setting} is {env.get(callee.url_setting)!r} "
                    f"on the host network, not {want}"
                )
    return problems


def secret_values(compose: Compose) -> list[str]:
    """Secrets given a literal value, or a default, instead of ``${NAME...}``."""
    found = []
    for name, service in compose["services"].items():
        for key, value in environment(service).items():
            secret = any(s in key for s in SECRETS) or "PASSWORD" in key
            if secret and not re.fullmatch(r"\$\{\w+(:\?[^}]*|:-)?\}", str(value)):
                found.append(f"{name}.{key}")
    return found


def unset_secrets(env_example: str) -> list[str]:
    """The secrets .env.example gives a value (it must leave each empty)."""
    found = []
    for line in env_example.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            if any(secret in key for secret in SECRETS) and value:
                found.append(key)
    return found


def check_secrets(stack: Stack, registry: Registry) -> list[str]:
    """No secret has a value in the Compose files or .env.example."""
    return [
        *(f"compose.yaml: {s}" for s in secret_values(stack.base)),
        *(f"compose.host.yaml: {s}" for s in secret_values(stack.host)),
        *(f".env.example gives {key} a value" for key in unset_secrets(stack.env_example)),
    ]


def check_env_example(stack: Stack, registry: Registry) -> list[str]:
    """.env.example names each app's ``<NAME>_PORT`` with its default, and no other; and ALLOWED_HOSTS."""
    written = dict(re.findall(r"^# (\w+_PORT)=(\d+)$", stack.env_example, flags=re.MULTILINE))
    wanted = {f"{d.name.upper()}_PORT": str(d.port) for d in apps(registry)}
    problems = [
        f".env.example: {key}={written.get(key)}, not {port}"
        for key, port in wanted.items()
        if written.get(key) != port
    ]
    problems += [
        f".env.example: {key} is no app's port" for key in sorted(set(written) - set(wanted))
    ]
    if not re.search(r"^ALLOWED_HOSTS=\S", stack.env_example, flags=re.MULTILINE):
        problems.append(".env.example: no ALLOWED_HOSTS (compose.yaml requires it)")
    return problems


Check = Callable[[Stack, Registry], list[str]]
CHECKS: dict[str, Check] = {
    "images": check_images,
    "ports": check_ports,
    "settings": check_settings,
    "databases": check_databases,
    "routes": check_routes,
    "host network": check_host_network,
    "secrets": check_secrets,
    "env example": check_env_example,
}
