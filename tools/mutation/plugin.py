"""A pytest plugin for the mutation check (loaded with ``-p plugin`` in the tree
tools/mutation/run builds). Three things mutmut does not do by itself here:

- Calls made while a test module, a conftest or the core plugin is imported
  (resource declarations, decorators, the registry) are recorded by mutmut
  against whichever test happens to run first. In the stats run this plugin
  writes them down (mutmut-import-time.json) with the tests that could see
  them: every test of the module whose import made them, and every test for
  those made before any module (conftests, plugins); the runner then runs
  such mutants again with those tests, in processes that import the code
  afresh.
- A mutant that breaks an import fails collection, which pytest reports as
  "interrupted" (2); that is a kill (1).
- A mutant's tests run fastest first (clean durations from mutmut's stats),
  so that a killed mutant stops early (mutmut passes ``-x``).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

IMPORT_TIME = Path("mutmut-import-time.json")

_by_module: dict[str, set[str]] = defaultdict(set)  # module path -> functions called importing it
_collection_failed = False


def _stats_run() -> bool:
    return os.environ.get("MUTANT_UNDER_TEST") == "stats"


def _recorded() -> set[str]:
    from mutmut.state import state

    return state()._stats


def pytest_collectstart(collector: Any) -> None:
    if _stats_run() and type(collector).__name__ == "Module":
        _by_module[""] |= _recorded()  # before this module: conftests, plugins
        _recorded().clear()


def pytest_collectreport(report: Any) -> None:
    global _collection_failed
    if report.failed:
        _collection_failed = True
    if _stats_run() and report.nodeid.endswith(".py"):
        _by_module[report.nodeid] |= _recorded()
        _recorded().clear()


def pytest_collection_modifyitems(items: list[Any]) -> None:
    if _stats_run():
        _by_module[""] |= _recorded()
        _recorded().clear()
        everything = [item.nodeid for item in items]
        tests: dict[str, set[str]] = defaultdict(set)
        for module, functions in _by_module.items():
            ids = everything if not module else [i for i in everything if i.startswith(module + "::")]
            for function in functions:
                tests[function].update(ids)
        IMPORT_TIME.write_text(json.dumps({f: sorted(t) for f, t in sorted(tests.items())}))
        return
    stats = Path("mutmut-stats.json")
    if stats.exists():
        durations = json.loads(stats.read_text()).get("duration_by_test", {})
        items.sort(key=lambda item: durations.get(item.nodeid, 0.0))


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if _collection_failed and exitstatus == 2 and not _stats_run():
        session.exitstatus = 1
