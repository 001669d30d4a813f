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
- A mutant's tests run cheapest module first, so that a killed mutant
  stops early (mutmut passes ``-x``). A module's cost is what its tests took
  in the stats run with their set-up and tear-down (mutmut's own durations
  leave those out, and a module's server fixture is most of its cost),
  written down then (mutmut-test-costs.json).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

IMPORT_TIME = Path("mutmut-import-time.json")
TEST_COSTS = Path("mutmut-test-costs.json")

_by_module: dict[str, set[str]] = defaultdict(set)  # module path -> functions called importing it
_collection_failed = False
_costs: dict[str, float] = defaultdict(float)  # test -> seconds, set-up and tear-down included


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
    if TEST_COSTS.exists():
        costs = json.loads(TEST_COSTS.read_text())
        by_module: dict[str, float] = defaultdict(float)
        for test, seconds in costs.items():
            by_module[test.partition("::")[0]] += seconds
        # Within a module, its file's order (the stats run's), as pytest runs it
        # alone: mutmut names the tests in no particular order.
        order = {test: index for index, test in enumerate(costs)}
        items.sort(key=lambda item: (by_module[item.nodeid.partition("::")[0]], order.get(item.nodeid, 0)))


def pytest_runtest_logreport(report: Any) -> None:
    if _stats_run():
        _costs[report.nodeid] += report.duration


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if _stats_run() and _costs:
        TEST_COSTS.write_text(json.dumps(_costs))  # in the order the tests ran
    if _collection_failed and exitstatus == 2 and not _stats_run():
        session.exitstatus = 1
