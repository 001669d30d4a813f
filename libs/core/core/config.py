"""Configuration, layered: defaults -> environment -> environment variables -> overrides.

The environment is ``dev`` (the default), ``test`` or ``prod``, chosen by the
``APP_ENV`` variable or by the caller. Variables then override settings by name:

- ``SECRET_KEY``, ``LOG_LEVEL``, ``MAX_CONTENT_LENGTH``, ``TRUSTED_PROXY_HOPS``;
- ``ALLOWED_HOSTS``: the hosts clients may name, comma separated (see
  `core.hosts`; unset: any host);
- ``CORS_ORIGINS``, ``CORS_MAX_AGE``: the web origins that may call the app
  from a browser (see `core.cors`; unset: none, but any in ``dev``);
- ``METRICS_ALLOWED_FROM``: the networks that may read ``/metrics`` (see
  `core.metrics`; unset: loopback and the private networks);
- ``JWT_SECRET``, ``JWT_PUBLIC_KEY``, ``JWT_JWKS_URL``, ``JWT_AUDIENCE``,
  ``JWT_ISSUER``, ``JWT_LEEWAY`` (see `core.auth`);
- ``DATABASE_URL`` -> ``SQLALCHEMY_DATABASE_URI``;
- every setting the service declares in its own defaults, by the same name;
- any ``FLASK_<NAME>`` -> ``<NAME>``.

Values are parsed as JSON where they parse (``2.5``, ``{"a": 1}``), else kept
as text.

Explicit overrides (tests, embedding) come last. ``prod`` refuses to start with
the default secret, without ``ALLOWED_HOSTS``, or without ``DATABASE_URL`` for
a service with a database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from .cors import parse_origins
from .hosts import parse_allowed_hosts
from .metrics import DEFAULT_ALLOWED_FROM, parse_networks

__all__ = [
    "DEFAULT_ENGINE_OPTIONS",
    "DEFAULT_SECRET_KEY",
    "ENVIRONMENTS",
    "ConfigError",
    "configure",
]

DEFAULT_SECRET_KEY = "dev-insecure-secret-key"


DEFAULT_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
"""``SQLALCHEMY_ENGINE_OPTIONS`` unless a service or the environment says otherwise."""


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete for the environment."""


_DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    "LOG_LEVEL": "INFO",
    "MAX_CONTENT_LENGTH": 1024 * 1024,  # request bodies over 1 MiB -> 413
    "RESTX_MASK_SWAGGER": False,  # no X-Fields header in the docs
    "RESTX_ERROR_404_HELP": False,
    "SQLALCHEMY_ENGINE_OPTIONS": DEFAULT_ENGINE_OPTIONS,
    # X-Forwarded-* headers are trusted from this many proxies in front (the
    # gateway is one); 0 trusts none.
    "TRUSTED_PROXY_HOPS": 0,
    # The hosts a request may name (core.hosts); None: any, as in dev and test.
    "ALLOWED_HOSTS": None,
    # The web origins that may call from a browser (core.cors); None: none.
    "CORS_ORIGINS": None,
    "CORS_MAX_AGE": 600,  # seconds a browser may keep a preflight's answer
    # Who may read /metrics (core.metrics): loopback and the private networks.
    "METRICS_ALLOWED_FROM": DEFAULT_ALLOWED_FROM,
}

# Outside prod, tokens are checked with a known dev secret (see core.auth).
_DEV_JWT_SECRET = "dev-insecure-jwt-secret-do-not-use-in-prod"

ENVIRONMENTS: dict[str, dict[str, Any]] = {
    "dev": {"JWT_SECRET": _DEV_JWT_SECRET, "CORS_ORIGINS": "*"},
    "test": {"TESTING": True, "LOG_LEVEL": "WARNING", "JWT_SECRET": _DEV_JWT_SECRET},
    "prod": {},
}

_VARIABLES = {
    "SECRET_KEY": "SECRET_KEY",
    "LOG_LEVEL": "LOG_LEVEL",
    "MAX_CONTENT_LENGTH": "MAX_CONTENT_LENGTH",
    "TRUSTED_PROXY_HOPS": "TRUSTED_PROXY_HOPS",
    "ALLOWED_HOSTS": "ALLOWED_HOSTS",
    "CORS_ORIGINS": "CORS_ORIGINS",
    "CORS_MAX_AGE": "CORS_MAX_AGE",
    "METRICS_ALLOWED_FROM": "METRICS_ALLOWED_FROM",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "JWT_SECRET": "JWT_SECRET",
    "JWT_PUBLIC_KEY": "JWT_PUBLIC_KEY",
    "JWT_JWKS_URL": "JWT_JWKS_URL",
    "JWT_AUDIENCE": "JWT_AUDIENCE",
    "JWT_ISSUER": "JWT_ISSUER",
    "JWT_LEEWAY": "JWT_LEEWAY",
}
_INTEGERS = ("MAX_CONTENT_LENGTH", "TRUSTED_PROXY_HOPS", "CORS_MAX_AGE")


def configure(
    app: Flask,
    env: str | None = None,
    *,
    defaults: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    local_database_url: str | None = None,
) -> str:
    """Fill ``app.config`` layer by layer; return the environment's name.

    *defaults* are the service's own, applied over the core defaults and under
    everything else. *local_database_url* is the database of ``dev`` and
    ``test`` when ``DATABASE_URL`` is unset; ``prod`` has no default and
    refuses to start without one.
    """
    environ = os.environ if environ is None else environ
    env = env or environ.get("APP_ENV") or "dev"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"Unknown environment {env!r}; use one of {sorted(ENVIRONMENTS)}.")
    app.config.update(_DEFAULTS)
    app.config.update(defaults or {})
    if local_database_url and env != "prod":
        app.config["SQLALCHEMY_DATABASE_URI"] = local_database_url
    app.config.update(ENVIRONMENTS[env])
    app.config["ENV_NAME"] = env
    for variable, key in _VARIABLES.items():
        if environ.get(variable):
            app.config[key] = environ[variable]
    for key in defaults or {}:
        if environ.get(key):
            app.config[key] = _loads(environ[key])
    for name, value in environ.items():
        if name.startswith("FLASK_") and len(name) > 6:
            app.config[name[6:]] = _loads(value)
    for key in _INTEGERS:
        try:
            app.config[key] = int(app.config[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be an integer, not {app.config[key]!r}.") from None
    app.config.update(overrides or {})
    try:
        app.config["ALLOWED_HOSTS"] = parse_allowed_hosts(app.config["ALLOWED_HOSTS"])
        app.config["CORS_ORIGINS"] = parse_origins(app.config["CORS_ORIGINS"])
        app.config["METRICS_ALLOWED_FROM"] = parse_networks(app.config["METRICS_ALLOWED_FROM"])
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if env == "prod":
        _check_production(app, requires_database=local_database_url is not None)
    return env


def _loads(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _check_production(app: Flask, *, requires_database: bool) -> None:
    if app.config["SECRET_KEY"] in (None, "", DEFAULT_SECRET_KEY):
        raise ConfigError("prod refuses to start with the default SECRET_KEY; set SECRET_KEY.")
    if requires_database and not app.config.get("SQLALCHEMY_DATABASE_URI"):
        raise ConfigError("prod refuses to start without DATABASE_URL.")
    if app.config["ALLOWED_HOSTS"] is None:
        raise ConfigError(
            "prod refuses to start without ALLOWED_HOSTS, the hosts its clients use"
            " (comma separated: api.example.com,.example.org)."
        )
