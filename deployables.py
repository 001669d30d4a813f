"""Every deployable of the monorepo, declared once: one entry each.

Read by Python (`core.registry` gives it types) and by Pants: this file is a
BUILD prelude (see pants.toml), so every BUILD file can call `deployables()`
(docker/BUILD makes an image of each, the root BUILD a visibility rule for
each service, the migration runner depends on each migration line). Hence
plain literals and no imports.

An entry's keys (all but ``kind`` and ``target`` optional):

- ``kind``: ``service`` (behind the gateway), ``gateway`` or ``job``;
- ``target``: the pex that runs it (a service's ``serve``);
- ``port``: its default port, locally and in its container;
- ``prefixes``: the paths the gateway routes to it;
- ``database``: it owns tables, made by its migration line
  ``migrations/<name>`` (package ``<name>_migrations``);
- ``scopes``: the token scopes its operations check (the stack's dev token
  carries every service's);
- ``calls``: the services it calls itself, at their internal URLs
  (``<NAME>_URL``, as the gateway's).

A service's package is ``<name>_api``, its image ``flask-blueprint/<name>``.
``./pants run :new-service -- NAME`` adds an entry with the service.
"""


def deployables() -> dict[str, dict[str, object]]:
    """Name -> entry, in start order (what a service calls starts before it)."""
    return {
        "entity": {
            "kind": "service",
            "target": "services/entity:serve",
            "port": 8001,
            "prefixes": ["/api/entities"],
            "database": True,
            "scopes": ["entity:read", "entity:write", "entity:admin"],
        },
        "math": {
            "kind": "service",
            "target": "services/math:serve",
            "port": 8002,
            "prefixes": ["/api/math"],
        },
        "note": {
            "kind": "service",
            "target": "services/note:serve",
            "port": 8003,
            "prefixes": ["/api/notes"],
            "database": True,
            "scopes": ["note:read", "note:write", "note:admin"],
            "calls": ["entity"],
        },
        # new services: above this line
        "gateway": {
            "kind": "gateway",
            "target": "services/gateway:serve",
            "port": 8000,
        },
        "migrate": {
            "kind": "job",
            "target": "migrations/runner:migrate",
        },
    }
