"""The registry as `core.registry` reads it: what a bad entry is refused for,
and the conventions that follow from a name."""

from typing import Any

import pytest

from core.registry import read
from deployables import deployables


def test_the_registry_reads() -> None:
    registry = read(deployables())
    assert registry.gateway.name == "gateway"
    assert {d.name for d in registry.services} >= {"entity", "math"}
    entity = registry["entity"]
    assert (entity.package, entity.image, entity.url_setting) == (
        "entity_api",
        "flask-blueprint/entity",
        "ENTITY_URL",
    )
    assert (entity.migrations, entity.version_table) == (
        "entity_migrations",
        "alembic_version_entity",
    )
    assert registry["math"].migrations is None
    assert "entity:read" in registry.scopes


GATEWAY = {"gateway": {"kind": "gateway", "target": "services/gateway:serve", "port": 8000}}


def service(**entry: Any) -> dict[str, Any]:
    return {
        "kind": "service",
        "target": "services/x:serve",
        "port": 9001,
        "prefixes": ["/api/x"],
        **entry,
    }


@pytest.mark.parametrize(
    ("entries", "refusal"),
    [
        ({"x": service(kind="daemon")}, "kind must be one of"),
        ({"x": service(target="x")}, "target must be a Pants address"),
        ({"x": service(port="80")}, "port must be a TCP port"),
        ({"x": service(prefixes=[])}, "needs the prefixes"),
        ({"x": service(prefixes=["api/x"])}, "prefixes must be paths"),
        ({"x": service(scopes=["other:read"])}, "scopes are named x:<what>"),
        ({"x": service(database="yes")}, "database is true or false"),
        ({"x": service(colour="red")}, "unknown keys"),
        ({"X": service()}, "lower-case Python identifier"),
        ({"x": service(calls=["y"])}, "which is no service"),
        (
            {"x": service(calls=["y"]), "y": service(port=9002, prefixes=["/api/y"])},
            "must come before it",
        ),
        ({"x": service(), "y": service(port=9002)}, "routed to two services"),
        ({"x": service(), "y": service(prefixes=["/api/y"])}, "the same port"),
    ],
)
def test_bad_entries_are_refused(entries: dict[str, Any], refusal: str) -> None:
    with pytest.raises(ValueError, match=refusal):
        read({**entries, **GATEWAY})


def test_exactly_one_gateway() -> None:
    with pytest.raises(ValueError, match="exactly one gateway"):
        read({"x": service()})


def test_url_settings_name_each_deployable_at_its_url() -> None:
    registry = read(deployables())
    urls = {"entity": "http://e:1", "math": "http://m:2"}
    assert registry.url_settings(urls, ["entity"]) == {"ENTITY_URL": "http://e:1"}
    assert registry.url_settings(urls, urls) == {
        "ENTITY_URL": "http://e:1",
        "MATH_URL": "http://m:2",
    }
