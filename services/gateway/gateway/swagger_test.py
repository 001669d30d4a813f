import copy
from typing import Any

import httpx
from openapi_spec_validator import validate

from .swagger import SwaggerCache, merge_swagger
from .upstreams import Upstream

UPSTREAMS = {
    "entity": Upstream("entity", "http://entity", ("/api/entities",)),
    "math": Upstream("math", "http://math", ("/api/math",)),
}
PROBLEM = {"type": "object", "properties": {"title": {"type": "string"}}}


def operation(ref: str, op_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "responses": {"200": {"description": "OK", "schema": {"$ref": ref}}},
        "tags": [extra.pop("tag", "T")],
        **extra,
    }


def doc(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": "x", "version": "1"},
        "basePath": "/",
        "paths": {},
        "definitions": {"Problem": PROBLEM},
    }
    base.update(overrides)
    return base


ENTITY = doc(
    paths={
        "/api/entities": {"get": operation("#/definitions/Thing", "get_list", tag="Entity")},
        "/internal/debug": {"get": operation("#/definitions/Thing", "debug", tag="Entity")},
    },
    definitions={
        "Problem": PROBLEM,
        "Thing": {"type": "object", "properties": {"id": {"type": "integer"}}},
    },
    tags=[{"name": "Entity"}],
    securityDefinitions={"Bearer": {"type": "apiKey", "in": "header", "name": "Authorization"}},
)
MATH = doc(
    paths={
        "/api/math/sum": {
            "get": operation(
                "#/definitions/Thing", "get_list", tag="Math", security=[{"Bearer": []}]
            )
        }
    },
    definitions={
        "Problem": PROBLEM,
        "Thing": {"type": "object", "properties": {"result": {"type": "integer"}}},
        "Wrapper": {"type": "object", "properties": {"t": {"$ref": "#/definitions/Thing"}}},
    },
    tags=[{"name": "Math"}],
    securityDefinitions={"Bearer": {"type": "basic"}},
)


def test_merges_paths_tags_and_shared_definitions() -> None:
    merged = merge_swagger({"entity": ENTITY, "math": MATH}, UPSTREAMS)
    validate(merged)
    assert set(merged["paths"]) == {"/api/entities", "/api/math/sum"}  # /internal not routed
    assert [t["name"] for t in merged["tags"]] == ["Entity", "Math"]
    assert merged["definitions"]["Problem"] == PROBLEM  # equal: shared once
    assert merged["basePath"] == "/"


def test_colliding_names_are_renamed_with_refs_rewritten() -> None:
    merged = merge_swagger({"entity": ENTITY, "math": MATH}, UPSTREAMS)
    definitions = merged["definitions"]
    assert definitions["Thing"]["properties"] == {"id": {"type": "integer"}}
    assert definitions["math_Thing"]["properties"] == {"result": {"type": "integer"}}
    assert definitions["Wrapper"]["properties"]["t"] == {"$ref": "#/definitions/math_Thing"}
    sum_op = merged["paths"]["/api/math/sum"]["get"]
    assert sum_op["responses"]["200"]["schema"] == {"$ref": "#/definitions/math_Thing"}
    assert sum_op["operationId"] == "math_get_list"
    assert merged["securityDefinitions"] == {
        "Bearer": ENTITY["securityDefinitions"]["Bearer"],
        "math_Bearer": {"type": "basic"},
    }
    assert sum_op["security"] == [{"math_Bearer": []}]


def test_inputs_are_left_untouched() -> None:
    before = copy.deepcopy(MATH)
    merge_swagger({"entity": ENTITY, "math": MATH}, UPSTREAMS)
    assert before == MATH


def test_a_missing_service_is_named_and_the_rest_served() -> None:
    merged = merge_swagger({"entity": ENTITY, "math": None}, UPSTREAMS)
    validate(merged)
    assert list(merged["paths"]) == ["/api/entities"]
    assert merged["x-unavailable-services"] == ["math"]
    assert "math" in merged["info"]["description"]


def test_the_cache_fetches_once_per_ttl() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.host)
        if request.url.host == "math":
            return httpx.Response(503)
        return httpx.Response(200, json=ENTITY)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    cache = SwaggerCache(client, tuple(UPSTREAMS.values()), ttl=60, timeout=1)
    first = cache.get()
    second = cache.get()
    assert first is second
    assert sorted(calls) == ["entity", "math"]
    assert first["x-unavailable-services"] == ["math"]
    expired = SwaggerCache(client, tuple(UPSTREAMS.values()), ttl=0, timeout=1)
    expired.get()
    expired.get()
    assert len(calls) == 6


def test_a_definition_that_refers_to_a_renamed_one_is_renamed_too() -> None:
    item = {"type": "object", "properties": {"p": {"$ref": "#/definitions/Problem"}}}
    a = doc(definitions={"Problem": PROBLEM, "Item": item})
    b = doc(definitions={"Problem": {"type": "string"}, "Item": copy.deepcopy(item)})
    upstreams = {
        "a": Upstream("a", "http://a", ("/a",)),
        "b": Upstream("b", "http://b", ("/b",)),
    }
    merged = merge_swagger({"a": a, "b": b}, upstreams)
    definitions = merged["definitions"]
    assert definitions["Item"]["properties"]["p"] == {"$ref": "#/definitions/Problem"}
    assert definitions["b_Item"]["properties"]["p"] == {"$ref": "#/definitions/b_Problem"}
    assert definitions["b_Problem"] == {"type": "string"}
