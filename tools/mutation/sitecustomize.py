"""For the mutation check (copied into the tree tools/mutation/run builds),
in the processes the tests start (their ``PYTEST_CURRENT_TEST`` inherited):
the servers.

- Code that runs only in a server (gunicorn's workers, the gevent handler,
  ``core.serve``) is reached in another process, where mutmut records
  nothing. In mutmut's stats run, such a process writes down each mutated
  function it calls, with the test, to the file ``MUTATION_SUBPROCESS_RECORD``
  names (the runner sets it); the runner gives those functions that test's
  module.
- A server dies with the test process that started it: mutmut kills a
  mutant's tests on a timeout, and their teardown, which would stop it,
  never runs.

Python imports this module at start-up from the first ``sitecustomize`` on
its path: the tests' processes have the mutants' tree first on theirs.
"""

from __future__ import annotations

import json
import os


def _die_with_the_test() -> None:
    if "MUTANT_UNDER_TEST" not in os.environ or "PYTEST_CURRENT_TEST" not in os.environ:
        return
    import ctypes
    import signal

    parent = os.getppid()
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # gone before that took effect
        os._exit(1)


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


_die_with_the_test()
_record_in_children()
