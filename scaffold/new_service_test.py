"""The scaffolder: what it refuses, and a service it writes, run.

The end-to-end test writes a throwaway service ``widget`` into a copy of the
parts of the repository its tests need, then runs the new service's own tests
(the app and real gunicorn, on this test's database: SQLite, or PostgreSQL
with ``DATABASE_URL``) and its migration line, in a separate interpreter
whose path is that copy. (.ci/run also writes one into a clean clone and runs
``./pants lint check test`` on it.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.registry import read
from deployables import deployables
from scaffold.fields import parse_field
from scaffold.new_service import plan, write_service

REGISTRY = read(deployables())
COPIED = ("libs/core", "deployables.py", "conftest.py", "docker")


@pytest.mark.parametrize(
    ("name", "refusal"),
    [
        ("Widget", "snake_case"),
        ("class", "snake_case"),
        ("entity", "taken"),
        ("core", "taken"),
    ],
)
def test_bad_or_taken_names_are_refused(name: str, refusal: str) -> None:
    with pytest.raises(ValueError, match=refusal):
        plan(name, REGISTRY)


@pytest.mark.parametrize(
    ("spec", "refusal"),
    [
        ("Body:string", "snake_case"),
        ("id:integer", "has id already"),
        ("body:text", "string or integer"),
        ("body:string:huge", "unknown option"),
        ("count:integer:search", "unknown option"),
    ],
)
def test_bad_fields_are_refused(spec: str, refusal: str) -> None:
    with pytest.raises(ValueError, match=refusal):
        parse_field(spec)


def test_a_callee_must_be_a_service_of_the_registry() -> None:
    assert plan("widget", REGISTRY, calls=["entity"]).deployable.calls == ("entity",)
    with pytest.raises(ValueError, match="no service of"):
        plan("widget", REGISTRY, calls=["nothing"])
    with pytest.raises(ValueError, match="no service of"):
        plan("widget", REGISTRY, calls=["gateway"])


def test_the_plan_takes_the_next_free_port_and_names_everything() -> None:
    service = plan("widget", REGISTRY)
    used = {d.port for d in REGISTRY.values()}
    assert service.deployable.port not in used
    assert service.deployable.prefixes == ("/api/widgets",)
    assert service.deployable.scopes == ("widget:read", "widget:write", "widget:admin")
    assert {
        "services/widget/BUILD",
        "services/widget/widget/model.py",
        "services/widget/widget_api/__init__.py",
        "migrations/widget/widget_migrations/versions/0001_create_widgets.py",
    } <= set(service.files)


def copy_of_the_repository(root: Path) -> None:
    for part in COPIED:
        source = Path(part)
        if source.is_dir():
            shutil.copytree(source, root / part)
        else:
            shutil.copy(source, root / part)
    (root / "pyproject.toml").write_text(
        '[tool.ruff.lint.isort]\nknown-first-party = [\n  "core",\n]\n'
    )


def test_a_written_service_passes_its_own_tests(tmp_path: Path, database_url: str) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    copy_of_the_repository(root)
    fields = [parse_field("title:string:80:required:search"), parse_field("rank:integer")]
    service = plan("widget", REGISTRY, fields=fields, calls=["entity"])
    write_service(root, service)
    with pytest.raises(ValueError, match="exist already"):
        write_service(root, service)  # nothing is overwritten
    registry = (root / "deployables.py").read_text()
    assert '"widget": {' in registry and '"calls": ["entity"]' in registry
    assert "ENTITY_URL" in (root / "docker/k8s/base/widget.yaml").read_text()
    assert '"widget",' in (root / "pyproject.toml").read_text()

    here = os.getcwd()
    site = [p for p in sys.path if p and not p.startswith(here)]  # the third-party code
    roots = ["libs/core", "services/widget", "migrations/widget", "."]
    # Its tests make their own database, as every test process does: in the
    # PostgreSQL that DATABASE_URL names (a schema of their own), else SQLite.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([*(str(root / r) for r in roots), *site]),
    }
    env.pop("PEX_EXTRA_SYS_PATH", None)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "services/widget"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout and "failed" not in tests.stdout

    # Its migration line: to head and back on the same database; the table matches the model.
    script = (
        "import sqlalchemy as sa\n"
        "from alembic import command\n"
        "from widget_migrations import line\n"
        "config = line.make_config()\n"
        "command.upgrade(config, 'head')\n"
        "engine = sa.create_engine(line.database_url())\n"
        "with engine.connect() as c:\n"
        "    assert line.differences(c) == [], line.differences(c)\n"
        "    if c.dialect.name == 'postgresql':\n"
        "        names = set(c.scalars(sa.text('SELECT indexname FROM pg_indexes'\n"
        "            ' WHERE schemaname = current_schema()')))\n"
        "        assert {'ix_widgets_title_trgm', 'ix_widgets_owner_id_trgm'} <= names, names\n"
        "engine.dispose()\n"
        "command.downgrade(config, 'base')\n"
        "print('line ok')\n"
    )
    migrated = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env={**env, "DATABASE_URL": database_url},  # this test's own database
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "line ok" in migrated.stdout
