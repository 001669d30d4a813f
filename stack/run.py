"""``./pants run :stack``: migrate, then run every service of the registry and the gateway.

Every deployable comes from the registry (``deployables.py``). Each
service that owns tables has its migration line applied to ``DATABASE_URL``
(default: the service's own SQLite file in the working directory,
``entity.db``, ...); then every service starts under gunicorn, exactly as its
``serve`` target runs it, on ``<NAME>_PORT`` (``ENTITY_PORT``, ...; free ports
when unset), with the URLs of the services it calls; the gateway last, on
``PORT`` (8000; 0 is a free port, printed) at ``HOST`` (127.0.0.1), routing to
all of them. The services
trust the gateway's ``X-Forwarded-*`` headers, so the links they return point
at it. Every other variable (``JWT_*``, ``RATELIMIT_*``, ``LOG_LEVEL``, ...)
is handed to every service. Ctrl-C or SIGTERM stops them all. With
``APP_ENV=prod`` it refuses to start without ``DATABASE_URL``, as the
services do.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import FrameType

import migrate
from core.auth import DEV_JWT_SECRET, mint_token
from core.process import ServiceError, start_service, stop_service, wait_until_healthy
from core.registry import Deployable, read
from deployables import deployables

REGISTRY = read(deployables())


@dataclass
class Running:
    name: str
    url: str
    process: subprocess.Popen[bytes]


class Stack:
    """The running processes, stopped together."""

    def __init__(self) -> None:
        self.running: list[Running] = []

    def start(self, deployable: Deployable, port: int, host: str, env: Mapping[str, str]) -> str:
        try:
            started = start_service(deployable.package, port=port, host=host, env=env)
        except OSError as error:  # the port is taken, or the host is not ours
            raise ServiceError(
                f"{deployable.name}: cannot listen on {host}:{port}: {error}"
            ) from error
        self.running.append(Running(deployable.name, started.url, started.process))
        wait_until_healthy(started.url, started.process)
        return started.url

    def stop(self) -> None:
        for service in reversed(self.running):
            stop_service(service.process)
        self.running.clear()

    def exited(self) -> Running | None:
        return next((s for s in self.running if s.process.poll() is not None), None)


def _port(variable: str, default: int = 0) -> int:
    """The port *variable* sets, else *default*; 0 is a free port."""
    value = os.environ.get(variable)
    return int(value) if value else default


def main() -> None:
    if os.environ.get("APP_ENV") == "prod" and not os.environ.get("DATABASE_URL"):
        # The services refuse prod without DATABASE_URL; the stack would hand
        # them its SQLite files, so it refuses for them.
        print("stack: prod refuses to start without DATABASE_URL", file=sys.stderr, flush=True)
        sys.exit(2)
    host = os.environ.get("HOST", "127.0.0.1")
    gateway_port = _port("PORT", 8000)
    # DATABASE_URL, or each service's own local file, as its line says.
    databases = {line.name: line.database_url() for line in migrate.lines()}
    for line in migrate.lines():
        print(f"stack: migrating {line.name} on {databases[line.name]}", flush=True)
        migrate.upgrade_all(databases[line.name], [line])

    stack = Stack()
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    urls: dict[str, str] = {}
    try:
        for service in REGISTRY.services:  # in order: a service after those it calls
            env = {"TRUSTED_PROXY_HOPS": "1"}
            if service.database:
                env["DATABASE_URL"] = databases[service.name]
            env.update(REGISTRY.url_settings(urls, service.calls))
            port = _port(f"{service.name.upper()}_PORT")
            urls[service.name] = stack.start(service, port, "127.0.0.1", env)
        routes = REGISTRY.url_settings(urls, urls)
        gateway = stack.start(REGISTRY.gateway, gateway_port, host, routes)
    except ServiceError as error:
        print(f"stack: {error}", file=sys.stderr, flush=True)
        stack.stop()
        sys.exit(1)

    print(f"stack: gateway  {gateway}  (docs {gateway}/, swagger {gateway}/swagger)", flush=True)
    for name, url in urls.items():
        print(f"stack: {name:<8} {url}", flush=True)
    if not (os.environ.get("JWT_PUBLIC_KEY") or os.environ.get("JWT_JWKS_URL")):
        secret = os.environ.get("JWT_SECRET") or DEV_JWT_SECRET
        scopes = " ".join(REGISTRY.scopes)
        token = mint_token(secret, "dev-user", scopes, lifetime=12 * 3600)
        print(f"stack: a dev token ({scopes}, 12 h): {token}", flush=True)
    print("stack: Ctrl-C stops everything", flush=True)
    code = 0
    while not stopping:
        crashed = stack.exited()
        if crashed:
            print(f"stack: {crashed.name} exited ({crashed.process.returncode})", file=sys.stderr)
            code = 1
            break
        time.sleep(0.2)
    print("stack: stopping", flush=True)
    stack.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
