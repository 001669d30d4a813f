"""For the mutation check (copied into the tree tools/mutation/run builds):
code that runs only in a server a test starts (gunicorn's workers, the
gevent handler, ``core.serve``) is reached in another process, where mutmut
records nothing. In mutmut's stats run, a process started by a test (its
``PYTEST_CURRENT_TEST`` inherited) writes down each mutated function it
calls, with that test, to the file ``MUTATION_SUBPROCESS_RECORD`` names
(the runner sets it); the runner gives those functions that test's module.

Python imports this module at start-up from the first ``sitecustomize`` on
its path: the tests' processes have the mutants' tree first on theirs.
"""

from __future__ import annotations

import json
import os


def _record_in_children() -> None:
    test = os.environ.get("PYTEST_CURRENT_TEST")
    path = os.environ.get("MUTATION_SUBPROCESS_RECORD")
    if os.environ.get("MUTANT_UNDER_TEST") != "stats" or not test or not path:
        return
    from mutmut.mutation import trampoline

    nodeid = test.rsplit(" ", 1)[0]  # "path::name (setup)"
    seen: set[str] = set()

    def record(name: str, caller: str | None = None) -> None:
        if name not in seen:
            seen.add(name)
            with open(path, "a") as out:  # one short append: whole lines across workers
                out.write(json.dumps([name, nodeid]) + "\n")

    trampoline.record_trampoline_hit = record


_record_in_children()
