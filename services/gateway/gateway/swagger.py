"""One Swagger 2.0 document from every upstream's ``/swagger``.

`merge_swagger` is pure: it takes each service's document (or ``None`` for a
service that could not be read) and returns the gateway's. Paths keep their
place (the gateway forwards paths unchanged) but only those under one of the
service's prefixes are listed; tags, definitions, parameters, responses and
security definitions are united. A name two services define differently is
renamed ``<service>_<name>`` in the second and its ``$ref``s rewritten; equal
definitions are shared. Repeated operation ids get the service's name in
front. Missing services are named in the description and in
``x-unavailable-services``.

`SwaggerCache` fetches the documents and keeps the merged one for a few
seconds, so the docs UI costs the upstreams little; its OpenAPI 3.1 version
is converted once per merge.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx

from core.openapi import to_openapi

from .upstreams import Upstream

__all__ = ["SwaggerCache", "merge_swagger"]

_COMPONENTS = ("definitions", "parameters", "responses")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    """Copy *node* with ``$ref`` values renamed (``renames`` maps whole refs)."""
    if isinstance(node, dict):
        return {
            k: (
                renames.get(v, v)
                if k == "$ref" and isinstance(v, str)
                else _rewrite_refs(v, renames)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def merge_swagger(
    documents: Mapping[str, dict[str, Any] | None],
    upstreams: Mapping[str, Upstream],
    *,
    title: str = "API gateway",
    version: str = "1.0",
) -> dict[str, Any]:
    """The gateway's swagger document; see the module docstring."""
    merged: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": title, "version": version},
        "basePath": "/",
        "consumes": ["application/json"],
        "produces": ["application/json", "application/problem+json"],
        "paths": {},
        "tags": [],
    }
    components: dict[str, dict[str, Any]] = {name: {} for name in _COMPONENTS}
    security: dict[str, Any] = {}
    operation_ids: set[str] = set()
    missing = [name for name, doc in documents.items() if doc is None]

    for name, original in documents.items():
        if original is None:
            continue
        doc = copy.deepcopy(original)
        # A name is shared only if its definition is equal once this service's
        # renames are applied to it (a renamed reference makes it differ):
        # grow the renames until nothing changes.
        renames: dict[str, str] = {}
        while True:
            found = {
                f"#/{kind}/{key}": f"#/{kind}/{name}_{key}"
                for kind in _COMPONENTS
                for key, value in doc.get(kind, {}).items()
                if key in components[kind]
                and components[kind][key] != _rewrite_refs(value, renames)
            }
            if found.keys() <= renames.keys():
                break
            renames.update(found)
        security_renames: dict[str, str] = {}
        for key, value in doc.get("securityDefinitions", {}).items():
            if key in security and security[key] != value:
                security_renames[key] = f"{name}_{key}"
        doc = _rewrite_refs(doc, renames)
        for kind in _COMPONENTS:
            for key, value in doc.get(kind, {}).items():
                target = renames.get(f"#/{kind}/{key}", f"#/{kind}/{key}").rsplit("/", 1)[1]
                components[kind][target] = value
        for key, value in doc.get("securityDefinitions", {}).items():
            security[security_renames.get(key, key)] = value

        base = doc.get("basePath", "/").rstrip("/")
        for path, item in doc.get("paths", {}).items():
            full = base + path
            if not upstreams[name].owns(full):
                continue
            for method in _METHODS:
                operation = item.get(method)
                if not operation:
                    continue
                if "operationId" in operation:
                    if operation["operationId"] in operation_ids:
                        operation["operationId"] = f"{name}_{operation['operationId']}"
                    operation_ids.add(operation["operationId"])
                for requirement in operation.get("security", []):
                    for old, new in security_renames.items():
                        if old in requirement:
                            requirement[new] = requirement.pop(old)
            merged["paths"][full] = item
        known = {t["name"] for t in merged["tags"]}
        merged["tags"] += [t for t in doc.get("tags", []) if t["name"] not in known]

    for kind in _COMPONENTS:
        if components[kind]:
            merged[kind] = components[kind]
    if security:
        merged["securityDefinitions"] = security
    available = [name for name in documents if name not in missing]
    description = f"Services: {', '.join(available) or 'none'}."
    if missing:
        description += f" Unavailable now, so not listed: {', '.join(missing)}."
        merged["x-unavailable-services"] = missing
    merged["info"]["description"] = description
    return merged


class SwaggerCache:
    """Fetches every upstream's document and caches the merge for *ttl* seconds."""

    def __init__(
        self, client: httpx.Client, upstreams: tuple[Upstream, ...], *, ttl: float, timeout: float
    ) -> None:
        self.client = client
        self.upstreams = {u.name: u for u in upstreams}
        self.ttl = ttl
        self.timeout = timeout
        self._lock = threading.Lock()
        self._merged: dict[str, Any] | None = None
        self._expires = 0.0
        self._converted: tuple[dict[str, Any], dict[str, Any]] | None = None

    def _fetch(self, upstream: Upstream) -> dict[str, Any] | None:
        try:
            response = self.client.get(f"{upstream.url}/swagger", timeout=self.timeout)
            document = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        return document if isinstance(document, dict) and "paths" in document else None

    def get(self) -> dict[str, Any]:
        with self._lock:
            if self._merged is None or time.monotonic() >= self._expires:
                documents = {name: self._fetch(u) for name, u in self.upstreams.items()}
                self._merged = merge_swagger(documents, self.upstreams)
                self._expires = time.monotonic() + self.ttl
            return self._merged

    def openapi(self) -> dict[str, Any]:
        """The merged document as OpenAPI 3.1 (`core.openapi`), converted once per merge."""
        merged = self.get()
        with self._lock:
            if self._converted is None or self._converted[0] is not merged:
                self._converted = (merged, to_openapi(merged))
            return self._converted[1]
