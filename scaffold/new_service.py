"""``./pants run :new-service -- NAME [--plural P] [--port N] [--field SPEC ...]``.

Writes a working CRUD service named NAME into this repository, from the
templates beside this module:

- ``services/NAME/``: its resource (``NAME/``: db, model, interfaces, service,
  controller, tests) and its declaration (``NAME_api/``, a `core.service.Service`);
- ``migrations/NAME/``: its alembic line with a first revision that creates
  its table;
- its entry in the registry (``deployables.py``), from which the gateway,
  the stack, the bench, the images and the visibility rules follow;
- its Compose and Kubernetes entries (`scaffold.deploy`).

Fields are ``name:type[:option...]`` (see `scaffold.fields`); the default is
one required, searchable ``name``. Nothing is overwritten: an existing
service or file of that name is an error, and nothing is written then.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import keyword
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from core.registry import Deployable, Registry, read
from deployables import deployables

from .fields import DEFAULT_FIELDS, FieldSpec, parse_field
from .snippets import crud_names, interfaces_fields, model_columns, revision_columns

__all__ = ["ServicePlan", "main", "plan", "write_service"]

REGISTRY_MARKER = "        # new services: above this line\n"
TEMPLATES = "templates"


@dataclass(frozen=True)
class ServicePlan:
    """What will be written: the registry entry and every file's text by path."""

    deployable: Deployable
    files: dict[str, str]


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _template_files() -> dict[str, str | bytes]:
    """Every template by its path under templates/ (text for .tmpl, else bytes)."""
    found: dict[str, str | bytes] = {}
    root = resources.files(__package__).joinpath(TEMPLATES)

    def walk(node: Any, prefix: str) -> None:
        for child in node.iterdir():
            path = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, path + "/")
            elif child.name.endswith(".tmpl"):
                found[path] = child.read_text()
            elif child.name != "__pycache__":
                found[path] = child.read_bytes().decode()

    walk(root, "")
    return found


def _sort_import_blocks(text: str) -> str:
    """Sort each run of one-line imports as isort does: ``import x`` lines
    first, then ``from x import y``, each by module (the templates' first-party
    block depends on the service's name)."""
    lines = text.split("\n")
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        straight = sorted((li for li in block if li.startswith("import ")), key=_module)
        froms = sorted((li for li in block if li.startswith("from ")), key=_module)
        out.extend(straight + froms)
        block.clear()

    for line in lines:
        if re.match(r"(import|from) [\w.]+", line) and not line.rstrip().endswith("("):
            block.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)


def _module(line: str) -> str:
    return line.split()[1].lower()


def _substitutions(
    name: str, plural: str, fields: Sequence[FieldSpec], prefix: str
) -> dict[str, str]:
    example = {f.wire: f.example for f in fields}
    other = {f.wire: (f"Other {f.words}" if f.type == "string" else 2) for f in fields}
    invalid: list[tuple[dict[str, Any], str]] = []
    for f in fields:
        if f.required:
            invalid.append(({k: v for k, v in example.items() if k != f.wire}, f"/{f.wire}"))
        wrong: Any = 7 if f.type == "string" else "x"
        invalid.append(({**example, f.wire: wrong}, f"/{f.wire}"))
    invalid.append(({**example, "colour": "red"}, "/colour"))
    searchable = [f for f in fields if f.searchable]
    search_test = ""
    if searchable:
        wire = searchable[0].wire
        search_test = (
            "\n\ndef test_search_needs_every_term(client: FlaskClient) -> None:\n"
            f'    match = create(client, **{{"{wire}": "Alpha beta"}})\n'
            f'    create(client, **{{"{wire}": "Alpha gamma"}})\n'
            '    found = client.get(PATH, query_string={"search": "BETA alpha"}).get_json()\n'
            '    assert [row["id"] for row in found["data"]] == [match["id"]]'
        )
    indexed = (*(f.name for f in fields if f.indexed), "owner_id", "created_at", "updated_at")
    # Every string field has its fold (scaffold.snippets), and owner_id too.
    trigrams = (*(f.name for f in fields if f.type == "string"), "owner_id")
    types = sorted({"String" if f.type == "string" else "Integer" for f in fields})
    words = name.replace("_", " ")
    return {
        "name": name,
        "Name": _camel(name),
        "Title": words[:1].upper() + words[1:],
        "words": words,
        "plural": plural,
        "plural_words": plural.replace("_", " "),
        "plural_title": plural.replace("_", " ").capitalize(),
        "prefix": prefix,
        "keys": json.dumps([f.name for f in fields]),
        "model_columns": model_columns(fields),
        "crud_names": crud_names(fields),
        "interfaces_fields": interfaces_fields(fields),
        "revision_columns": revision_columns(fields),
        "indexed": json.dumps(indexed),
        "trigrams": json.dumps(trigrams),
        "field_types": ", ".join(types),
        "example": json.dumps(example),
        "other": json.dumps(other),
        "invalid_bodies": "".join(
            f"\n        ({json.dumps(body)}, {json.dumps(pointer)})," for body, pointer in invalid
        )
        + "\n    ",
        "first_wire": fields[0].wire,
        "search_test": search_test,
        "date": dt.date.today().isoformat(),
    }


def plan(
    name: str,
    registry: Registry,
    *,
    plural: str | None = None,
    port: int | None = None,
    fields: Sequence[FieldSpec] = DEFAULT_FIELDS,
    calls: Sequence[str] = (),
) -> ServicePlan:
    """The service *name* as it would be written, checked against *registry*.

    *calls*: the services it will call (its code does that; the registry
    entry, Compose and Kubernetes give it their URLs and let it reach them)."""
    if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name) or keyword.iskeyword(name):
        raise ValueError(f"{name!r}: a service is named in snake_case, like note")
    if name in registry or name in ("core", "stack", "bench", "scaffold", "deployables"):
        raise ValueError(f"{name!r} is taken")
    if not fields:
        raise ValueError("a resource needs at least one field")
    if len({f.name for f in fields}) != len(fields):
        raise ValueError("two fields have the same name")
    plural = plural or f"{name}s"
    prefix = f"/api/{plural.replace('_', '-')}"
    ports = {d.port for d in registry.values() if d.port}
    port = port or next(p for p in range(8001, 9000) if p not in ports)
    deployable = Deployable(
        name=name,
        kind="service",
        target=f"services/{name}:serve",
        port=port,
        prefixes=(prefix,),
        database=True,
        scopes=(f"{name}:read", f"{name}:write", f"{name}:admin"),
        calls=tuple(calls),
    )
    unknown = [c for c in calls if c not in {d.name for d in registry.services}]
    if unknown:
        raise ValueError(f"it calls {', '.join(unknown)}, which the registry has no service of")
    values = _substitutions(name, plural, fields, prefix)
    files: dict[str, str] = {}
    for path, text in _template_files().items():
        target = path.replace("__name__", name).replace("__plural__", plural)
        if target.endswith(".tmpl"):
            target = target.removesuffix(".tmpl")
            text = Template(str(text)).substitute(values)
            if target.endswith(".py"):
                text = _sort_import_blocks(text)
        if Path(target).name == "build":
            target = str(Path(target).with_name("BUILD"))
        files[target] = str(text)
    return ServicePlan(deployable, files)


def registry_entry(deployable: Deployable) -> str:
    """The text of *deployable*'s entry in deployables.py."""
    scopes = ", ".join(f'"{s}"' for s in deployable.scopes)
    return (
        f'        "{deployable.name}": {{\n'
        '            "kind": "service",\n'
        f'            "target": "{deployable.target}",\n'
        f'            "port": {deployable.port},\n'
        f'            "prefixes": ["{deployable.prefixes[0]}"],\n'
        '            "database": True,\n'
        f'            "scopes": [{scopes}],\n'
        + (
            f'            "calls": {json.dumps(list(deployable.calls))},\n'
            if deployable.calls
            else ""
        )
        + "        },\n"
    )


def write_service(root: Path, service: ServicePlan) -> None:
    """Write *service* into the repository at *root* (nothing when a file exists)."""
    existing = [path for path in service.files if (root / path).exists()]
    for directory in (
        f"services/{service.deployable.name}",
        f"migrations/{service.deployable.name}",
    ):
        if (root / directory).exists():
            existing.append(directory)
    if existing:
        raise ValueError(f"these exist already: {', '.join(sorted(existing))}")
    registry_file = root / "deployables.py"
    registry_text = registry_file.read_text()
    if REGISTRY_MARKER not in registry_text:
        raise ValueError(f"{registry_file}: the line {REGISTRY_MARKER.strip()!r} is missing")
    from .deploy import add_to_compose, add_to_kubernetes

    add_to_compose(root / "docker", service.deployable)
    add_to_kubernetes(root / "docker" / "k8s", service.deployable)
    for path, text in service.files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    registry_file.write_text(
        registry_text.replace(REGISTRY_MARKER, registry_entry(service.deployable) + REGISTRY_MARKER)
    )
    _add_first_party(root / "pyproject.toml", service.deployable.name)


def _add_first_party(pyproject: Path, package: str) -> None:
    """Name the service's domain package in ruff's known-first-party list."""
    text = pyproject.read_text()
    found = re.search(r"known-first-party = \[(.*?)\n\]", text, flags=re.DOTALL)
    if found is None:
        raise ValueError(f"{pyproject}: no known-first-party list to add {package!r} to")
    if f'"{package}"' not in found.group(1):
        end = found.end() - 2
        text = f'{text[:end]}\n  "{package}",{text[end:]}'
        pyproject.write_text(text)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="new-service", description=__doc__.split("\n")[0])
    parser.add_argument("name", help="the service and its resource, singular: note")
    parser.add_argument("--plural", help="the table and route name (default: NAME + s)")
    parser.add_argument("--port", type=int, help="its default port (default: the next free)")
    parser.add_argument(
        "--calls",
        action="append",
        default=[],
        metavar="SERVICE",
        help="a service it calls over HTTP, given its URL as <SERVICE>_URL (repeatable)",
    )
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="SPEC",
        help="name:type[:option...], e.g. body:string:2000:required:search (repeatable)",
    )
    options = parser.parse_args(argv)
    root = Path.cwd()
    try:
        fields = [parse_field(spec) for spec in options.field] or list(DEFAULT_FIELDS)
        service = plan(
            options.name,
            read(deployables()),
            plural=options.plural,
            port=options.port,
            fields=fields,
            calls=options.calls,
        )
        write_service(root, service)
    except ValueError as error:
        parser.exit(2, f"new-service: {error}\n")
    d = service.deployable
    print(
        f"new-service: wrote services/{d.name}, migrations/{d.name} and its entries in\n"
        f"  deployables.py, docker/compose.yaml and docker/k8s (port {d.port}, {d.prefixes[0]}).\n"
        f"  Next: ./pants test services/{d.name}:: migrations/runner:: docker::\n"
        f"        ./pants run services/{d.name}:serve   (or ./pants run :stack)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
