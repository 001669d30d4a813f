"""``./pants run :stack``: migrate, then run entity, math and the gateway.

The entity migrations are applied to ``DATABASE_URL`` (default: ``entity.db``,
an SQLite file in the working directory); then every service starts under
gunicorn, exactly as its ``serve`` target runs it: entity and math on
``ENTITY_PORT`` / ``MATH_PORT`` (free ports when unset), the gateway on
``PORT`` (8000) at ``HOST`` (127.0.0.1). The services trust the gateway's
``X-Forwarded-*`` headers, so the links they return point at it. Every other
variable (``JWT_*``, ``RATELIMIT_*``, ``LOG_LEVEL``, ...) is handed to every
service. Ctrl-C or SIGTERM stops them all.
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

from alembic import command

from core.auth import DEV_JWT_SECRET, mint_token
from core.process import ServiceError, free_port, start_service, stop_service, wait_until_healthy
from entity_api.db import local_database_url
from entity_migrations.cli import make_config

SERVICES = ("entity", "math")


@dataclass
class Running:
    name: str
    url: str
    process: subprocess.Popen[bytes]


class Stack:
    """The running processes, stopped together."""

    def __init__(self) -> None:
        self.running: list[Running] = []

    def start(self, name: str, module: str, port: int, host: str, env: Mapping[str, str]) -> str:
        url = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"
        process = start_service(module, port=port, host=host, env=env)
        self.running.append(Running(name, url, process))
        wait_until_healthy(url, process)
        return url

    def stop(self) -> None:
        for service in reversed(self.running):
            stop_service(service.process)
        self.running.clear()

    def exited(self) -> Running | None:
        return next((s for s in self.running if s.process.poll() is not None), None)


def _port(variable: str, default: int | None = None) -> int:
    value = os.environ.get(variable)
    return int(value) if value else (default or free_port())


def main() -> None:
    database_url = os.environ.get("DATABASE_URL") or local_database_url()
    host = os.environ.get("HOST", "127.0.0.1")
    gateway_port = _port("PORT", 8000)

    print(f"stack: migrating {database_url}", flush=True)
    command.upgrade(make_config(database_url), "head")

    stack = Stack()
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    service_env = {"DATABASE_URL": database_url, "TRUSTED_PROXY_HOPS": "1"}
    try:
        urls = {
            "entity": stack.start(
                "entity", "entity_api.serve", _port("ENTITY_PORT"), "127.0.0.1", service_env
            ),
            "math": stack.start(
                "math", "math_api.serve", _port("MATH_PORT"), "127.0.0.1", service_env
            ),
        }
        gateway = stack.start(
            "gateway",
            "gateway_api.serve",
            gateway_port,
            host,
            {"ENTITY_URL": urls["entity"], "MATH_URL": urls["math"]},
        )
    except ServiceError as error:
        print(f"stack: {error}", file=sys.stderr, flush=True)
        stack.stop()
        sys.exit(1)

    print(
        f"stack: gateway  {gateway}  (docs {gateway}/, swagger {gateway}/swagger)\n"
        f"stack: entity   {urls['entity']}\n"
        f"stack: math     {urls['math']}",
        flush=True,
    )
    if not (os.environ.get("JWT_PUBLIC_KEY") or os.environ.get("JWT_JWKS_URL")):
        secret = os.environ.get("JWT_SECRET") or DEV_JWT_SECRET
        token = mint_token(secret, "dev-user", "entity:read entity:write", lifetime=12 * 3600)
        print(f"stack: a dev token (entity:read entity:write, 12 h): {token}", flush=True)
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
