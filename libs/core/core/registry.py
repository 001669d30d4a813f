"""The registry of deployables, typed: `read` turns its entries into `Deployable`.

The registry itself is data (``deployables.py``, one entry per
deployable); this module knows the conventions that follow from a name, so
that an entry holds only what differs: a service ``note`` is the package
``note_api``, the image ``flask-blueprint/note``, the setting ``NOTE_URL``
(where the gateway and other services reach it) and, with a database, the
migration line ``note_migrations`` with the version table
``alembic_version_note``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["Deployable", "Registry", "read"]

Kind = Literal["service", "gateway", "job"]
KINDS: tuple[Kind, ...] = ("service", "gateway", "job")
IMAGE_REPOSITORY = "flask-blueprint"


@dataclass(frozen=True)
class Deployable:
    """One deployable: a service behind the gateway, the gateway, or a job."""

    name: str
    kind: Kind
    target: str
    port: int | None = None
    prefixes: tuple[str, ...] = ()
    database: bool = False
    scopes: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()

    @property
    def package(self) -> str:
        """The Python package that declares it (``<name>_api``)."""
        return f"{self.name}_api"

    @property
    def image(self) -> str:
        return f"{IMAGE_REPOSITORY}/{self.name}"

    @property
    def url_setting(self) -> str:
        """The setting that holds its base URL for its callers (``ENTITY_URL``)."""
        return f"{self.name.upper()}_URL"

    @property
    def local_url(self) -> str:
        """Its base URL when it runs on this machine at its default port."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def migrations(self) -> str | None:
        """Its migration line's package, if it owns tables."""
        return f"{self.name}_migrations" if self.database else None

    @property
    def version_table(self) -> str:
        return version_table(self.name)


def version_table(name: str) -> str:
    """The alembic version table of *name*'s migration line: one per line."""
    return f"alembic_version_{name}"


class Registry(Mapping[str, Deployable]):
    """The deployables by name, in the registry's order."""

    def __init__(self, deployables: Mapping[str, Deployable]) -> None:
        self._deployables = dict(deployables)

    def __getitem__(self, name: str) -> Deployable:
        return self._deployables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._deployables)

    def __len__(self) -> int:
        return len(self._deployables)

    def of_kind(self, kind: Kind) -> list[Deployable]:
        return [d for d in self._deployables.values() if d.kind == kind]

    @property
    def services(self) -> list[Deployable]:
        """The services behind the gateway, in start order."""
        return self.of_kind("service")

    @property
    def gateway(self) -> Deployable:
        (gateway,) = self.of_kind("gateway")
        return gateway

    def url_settings(self, urls: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
        """The ``<NAME>_URL`` settings of the deployables *names*, at *urls* (by
        name): what a caller of them, or the gateway, is started with."""
        return {self[name].url_setting: urls[name] for name in names}

    @property
    def scopes(self) -> tuple[str, ...]:
        """Every scope any service checks."""
        return tuple(s for d in self.services for s in d.scopes)


def read(entries: Mapping[str, Mapping[str, object]]) -> Registry:
    """Check the registry's entries and type them; `ValueError` names a bad one."""
    found: dict[str, Deployable] = {}
    for name, entry in entries.items():
        found[name] = _deployable(name, entry)
    services = {d.name for d in found.values() if d.kind == "service"}
    for d in found.values():
        for callee in d.calls:
            if callee not in services:
                raise ValueError(f"{name}: calls {callee!r}, which is no service of the registry")
            if list(found).index(callee) > list(found).index(d.name):
                raise ValueError(f"{d.name}: calls {callee!r}, which must come before it")
    if len([d for d in found.values() if d.kind == "gateway"]) != 1:
        raise ValueError("the registry must have exactly one gateway")
    prefixes = [p for d in found.values() for p in d.prefixes]
    if len(prefixes) != len(set(prefixes)):
        raise ValueError(f"a path prefix is routed to two services: {sorted(prefixes)}")
    ports = [d.port for d in found.values() if d.port is not None]
    if len(ports) != len(set(ports)):
        raise ValueError(f"two deployables have the same port: {sorted(ports)}")
    return Registry(found)


_KEYS = {"kind", "target", "port", "prefixes", "database", "scopes", "calls"}


def _deployable(name: str, entry: Mapping[str, object]) -> Deployable:
    if not name.isidentifier() or not name.islower():
        raise ValueError(f"{name!r}: a deployable's name is a lower-case Python identifier")
    unknown = set(entry) - _KEYS
    if unknown:
        raise ValueError(f"{name}: unknown keys {sorted(unknown)}")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{name}: kind must be one of {KINDS}, not {kind!r}")
    target = entry.get("target")
    if not isinstance(target, str) or ":" not in target:
        raise ValueError(f"{name}: target must be a Pants address like services/{name}:serve")
    port = entry.get("port")
    if kind != "job" and not (isinstance(port, int) and 0 < port < 65536):
        raise ValueError(f"{name}: port must be a TCP port, not {port!r}")
    prefixes = _strings(name, entry, "prefixes")
    if kind == "service" and not all(p.startswith("/") and len(p) > 1 for p in prefixes):
        raise ValueError(f"{name}: prefixes must be paths like /api/things, not {prefixes}")
    if kind == "service" and not prefixes:
        raise ValueError(f"{name}: a service needs the prefixes the gateway routes to it")
    database = entry.get("database", False)
    if not isinstance(database, bool):
        raise ValueError(f"{name}: database is true or false, not {database!r}")
    scopes = _strings(name, entry, "scopes")
    wrong = [s for s in scopes if not s.startswith(f"{name}:")]
    if wrong:
        raise ValueError(f"{name}: its scopes are named {name}:<what>, not {wrong}")
    return Deployable(
        name=name,
        kind=kind,
        target=target,
        port=port if isinstance(port, int) else None,
        prefixes=prefixes,
        database=database,
        scopes=scopes,
        calls=_strings(name, entry, "calls"),
    )


def _strings(name: str, entry: Mapping[str, object], key: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}: {key} must be a list of strings, not {value!r}")
    return tuple(value)
