"""Soak and fault: a minute of mixed traffic through the real gateway on
PostgreSQL while the entity service crashes (``kill -9`` of its master and
workers, as a container dies) and is started again.

Every service of the registry runs under real gunicorn, as the stack starts
it (``stack.run``), on a schema of its own built by the migration lines; each
in a session of its own, so that its process group is the service (the
master and every worker). `CLIENTS` threads, each with its own token and
its own rows, create, get, list and patch entities and notes, and add sums,
until `SOAK_SECONDS` (``SOAK_SECONDS``, 60 by default) have passed.
Meanwhile the entity service's whole group is killed, stays dead for
`DEAD_SECONDS`, and is started again on the same port.

What counts, by when a request ran (client-side start and end) and by what
it needs:

- *needs entity*: every entity operation, and a note's create (note checks
  the note's entity with the entity service). A note's get, list and patch
  (of its body, so no entity check) and a sum do not.
- *dead*: the request started once the entity port refused connections and
  ended before the new process was spawned: nothing could have served it.
- *outage*: any other request that overlaps the time from the kill until the
  new process answers ``/readyz`` (its database too) directly.
- *before* / *after*: the rest.

The test asserts:

1. every request got an answer (no client timeout, no refused gateway);
2. a request that does not need entity succeeds at all times, outage included;
3. a request that needs entity succeeds before the kill; while dead it is a
   502, 503 or 504 problem document; during the outage, a success or one of
   those; after readiness, a success, except a 502/503/504 within
   `RECOVERY_SECONDS` of readiness; so no 5xx outside the outage and its
   recovery, and clients see the system healthy again within 5 s;
4. a read of one's own row returns its last acknowledged content (or that of
   a later write whose answer was lost in the crash), and a sum is right;
5. at the end, every acknowledged write (201 create, 200 patch) is read back
   through the gateway with its last acknowledged content: nothing was lost.

It prints its counts: requests by kind, phase and status, the timings of the
fault, the recovery and the read-back. It runs only with ``RUN_SOAK=1`` and
``DATABASE_URL`` naming PostgreSQL (CI runs it); ``stack/run.py`` is the
stack it mimics.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import httpx
import pytest

import migrate
from core.auth import mint_token
from core.process import ServiceError, start_service, stop_service, wait_until_healthy
from stack.conftest import SECRET
from stack.run import REGISTRY

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("RUN_SOAK") != "1",
        reason="the soak and fault test runs for about a minute: RUN_SOAK=1 runs it (CI does)",
    ),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
        reason="the soak and fault test needs PostgreSQL: set DATABASE_URL",
    ),
]

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS") or 60)
"""How long the traffic runs (at least long enough to see the recovery)."""
KILL_AT = 0.4
"""When the entity service is killed, as a share of `SOAK_SECONDS`."""
DEAD_SECONDS = 3.0
"""How long the entity service stays dead before it is started again."""
RECOVERY_SECONDS = 5.0
"""After the restarted service is ready, how soon clients must see it healthy."""
CLIENTS = 8
KILLED = "entity"
SCOPES = "entity:read entity:write note:read note:write"
UPSTREAM_ERRORS = frozenset({502, 503, 504})
COMMON = {"LOG_LEVEL": "WARNING", "JWT_SECRET": SECRET}
# The clients all come from 127.0.0.1: lift the gateway's per-address limit.
GATEWAY_ENV = {"RATELIMIT_DEFAULT": "1000000/minute"}


# -- the services, each in a process group of its own ---------------------------------


@dataclass
class Deployed:
    """A service under gunicorn in a session of its own (the group is the service)."""

    name: str
    package: str
    env: dict[str, str]
    output: IO[bytes]
    port: int = 0  # a free one at the first start, the same one after a crash
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        started = start_service(
            self.package,
            port=self.port,
            env={**COMMON, **self.env},
            output=self.output,
            new_session=True,
        )
        self.process, self.port = started.process, started.port
        wait_until_healthy(self.url, self.process)

    def crash(self) -> None:
        """SIGKILL to the master and every worker at once; wait until the port refuses."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            except ConnectionRefusedError:
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: port {self.port} still answers after kill -9")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.process is None:
            return
        stop_service(self.process)
        with contextlib.suppress(ProcessLookupError):  # anything of the group left behind
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None

    def log(self) -> str:
        self.output.flush()
        self.output.seek(0)
        return self.output.read().decode(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def system(database_url: str) -> Iterator[dict[str, Deployed]]:
    """Every service of the registry and the gateway, started as the stack starts them."""
    migrate.upgrade_all(database_url)
    started: dict[str, Deployed] = {}
    urls: dict[str, str] = {}
    try:
        for service in REGISTRY.services:  # in order: a service after those it calls
            env = {"TRUSTED_PROXY_HOPS": "1"}
            if service.database:
                env["DATABASE_URL"] = database_url
            env.update(REGISTRY.url_settings(urls, service.calls))
            deployed = Deployed(service.name, service.package, env, tempfile.TemporaryFile())
            started[service.name] = deployed
            deployed.start()
            urls[service.name] = deployed.url
        gateway = Deployed(
            "gateway",
            REGISTRY.gateway.package,
            {**REGISTRY.url_settings(urls, urls), **GATEWAY_ENV},
            tempfile.TemporaryFile(),
        )
        started["gateway"] = gateway
        gateway.start()
        yield started
    except ServiceError as error:
        logs = "\n".join(f"--- {d.name}\n{d.log()}" for d in started.values())
        pytest.fail(f"{error}\n{logs}")
    finally:
        for deployed in reversed(started.values()):
            deployed.stop()
            deployed.output.close()


# -- the clients ------------------------------------------------------------------------


@dataclass
class Outcome:
    """One request as a client saw it (status 0: no answer at all)."""

    kind: str
    needs_entity: bool
    expected: int
    status: int
    start: float
    end: float
    problem: bool = True  # an error answer is problem+json with a request id
    stale: bool = False  # a read of one's own row that missed an acknowledged write
    detail: str = ""


@dataclass
class Written:
    """A row one client owns: its last acknowledged content, and the contents of
    later writes whose answer was lost (any of them may have been applied)."""

    acknowledged: str
    unsure: list[str] = field(default_factory=list)

    def acknowledge(self, content: str) -> None:
        self.acknowledged = content
        self.unsure.clear()

    def matches(self, content: str | None) -> bool:
        return content == self.acknowledged or content in self.unsure


class Client(threading.Thread):
    """Mixed traffic of one subject on its own entities and notes, until *until()*."""

    def __init__(self, number: int, gateway: str, until: Callable[[], float]) -> None:
        super().__init__(name=f"soak-{number}", daemon=True)
        self.number = number
        self.until = until
        self.random = random.Random(number)
        token = mint_token(SECRET, f"soak-{number}", SCOPES, lifetime=3600)
        self.http = httpx.Client(
            base_url=gateway, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.outcomes: list[Outcome] = []
        self.entities: dict[int, Written] = {}
        self.notes: dict[int, Written] = {}
        self.unacknowledged_creates = 0
        self.error: str | None = None
        self.sequence = 0
        self.operations: list[tuple[Callable[[], None], int]] = [
            (self.create_entity, 10),
            (self.get_entity, 15),
            (self.list_entities, 10),
            (self.patch_entity, 15),
            (self.create_note, 10),
            (self.get_note, 15),
            (self.list_notes, 10),
            (self.patch_note, 10),
            (self.add, 5),
        ]

    def run(self) -> None:
        actions, weights = zip(*self.operations, strict=True)
        try:
            while time.monotonic() < self.until():
                self.random.choices(actions, weights)[0]()
        except Exception as error:  # an answer the client could not read: a failure
            self.error = repr(error)
            raise
        finally:
            self.http.close()

    def content(self, prefix: str) -> str:
        self.sequence += 1
        return f"{prefix}-{self.number}-{self.sequence}"

    def call(
        self, kind: str, needs_entity: bool, expected: int, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        start = time.monotonic()
        try:
            response = self.http.request(method, path, **kw)
        except httpx.HTTPError as error:
            self.outcomes.append(
                Outcome(
                    kind, needs_entity, expected, 0, start, time.monotonic(), detail=repr(error)
                )
            )
            return None
        end = time.monotonic()
        outcome = Outcome(kind, needs_entity, expected, response.status_code, start, end)
        if response.status_code != expected:
            outcome.problem = response.headers.get(
                "content-type"
            ) == "application/problem+json" and bool(response.headers.get("x-request-id"))
            outcome.detail = response.text[:300]
        self.outcomes.append(outcome)
        return response if response.status_code == expected else None

    # Entities: everything needs the entity service.

    def create_entity(self) -> None:
        purpose = self.content("created")
        body = {"name": f"soak {self.number}", "purpose": purpose}
        response = self.call("entity.create", True, 201, "POST", "/api/entities", json=body)
        if response is None:
            self.unacknowledged_creates += 1
            return
        self.entities[response.json()["data"]["id"]] = Written(purpose)

    def get_entity(self) -> None:
        if not self.entities:
            self.create_entity()
            return
        entity_id = self.random.choice(list(self.entities))
        response = self.call("entity.get", True, 200, "GET", f"/api/entities/{entity_id}")
        if response is not None:
            self.check_read(self.entities[entity_id], response.json()["data"]["purpose"])

    def list_entities(self) -> None:
        query = {"filter[ownerId]": f"soak-{self.number}", "sort": "-id", "pageSize": "20"}
        self.call("entity.list", True, 200, "GET", "/api/entities", params=query)

    def patch_entity(self) -> None:
        if not self.entities:
            self.create_entity()
            return
        entity_id = self.random.choice(list(self.entities))
        purpose = self.content("patched")
        written = self.entities[entity_id]
        written.unsure.append(purpose)
        path = f"/api/entities/{entity_id}"
        patched = self.call("entity.patch", True, 200, "PATCH", path, json={"purpose": purpose})
        if patched is not None:
            written.acknowledge(purpose)

    # Notes: a create checks its entity with the entity service; nothing else does.

    def create_note(self) -> None:
        if not self.entities:
            self.create_entity()
            return
        text = self.content("created")
        body = {"entityId": self.random.choice(list(self.entities)), "body": text}
        response = self.call("note.create", True, 201, "POST", "/api/notes", json=body)
        if response is None:
            self.unacknowledged_creates += 1
            return
        self.notes[response.json()["data"]["id"]] = Written(text)

    def get_note(self) -> None:
        if not self.notes:
            self.create_note()
            return
        note_id = self.random.choice(list(self.notes))
        response = self.call("note.get", False, 200, "GET", f"/api/notes/{note_id}")
        if response is not None:
            self.check_read(self.notes[note_id], response.json()["data"]["body"])

    def list_notes(self) -> None:
        query = {"filter[ownerId]": f"soak-{self.number}", "sort": "-id", "pageSize": "20"}
        self.call("note.list", False, 200, "GET", "/api/notes", params=query)

    def patch_note(self) -> None:
        if not self.notes:
            self.create_note()
            return
        note_id = self.random.choice(list(self.notes))
        text = self.content("patched")
        written = self.notes[note_id]
        written.unsure.append(text)
        path = f"/api/notes/{note_id}"
        if self.call("note.patch", False, 200, "PATCH", path, json={"body": text}) is not None:
            written.acknowledge(text)

    def add(self) -> None:
        a, b = self.random.randrange(1000), self.random.randrange(1000)
        response = self.call("math.sum", False, 200, "GET", f"/api/math/sum?a={a}&b={b}")
        if response is not None and response.json() != {"data": {"result": a + b}}:
            self.outcomes[-1].stale = True
            self.outcomes[-1].detail = response.text[:300]

    def check_read(self, written: Written, content: str | None) -> None:
        if not written.matches(content):
            self.outcomes[-1].stale = True
            self.outcomes[-1].detail = f"read {content!r}, acknowledged {written.acknowledged!r}"


# -- the fault and the verdict ----------------------------------------------------------


@dataclass
class Fault:
    kill: float = 0.0  # SIGKILL sent
    dead: float = 0.0  # the port refuses connections
    respawn: float = 0.0  # the new process spawned
    ready: float = 0.0  # the new process answers /readyz directly

    def phase(self, outcome: Outcome) -> str:
        if outcome.end < self.kill:
            return "before"
        if outcome.start >= self.dead and outcome.end <= self.respawn:
            return "dead"
        if outcome.start <= self.ready:
            return "outage"
        return "after"


def wait_until_ready(url: str, timeout: float = 60) -> float:
    """The moment ``<url>/readyz`` first answers 200 (its database answers too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return time.monotonic()
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"{url} not ready {timeout} s after its restart")


def read_back(
    gateway: str, collection: str, field_name: str, rows: dict[int, Written]
) -> Counter[str]:
    """Every row of *rows* read through the gateway's list (100 ids a page):
    ``kept`` (its last acknowledged content), ``unsure`` (a later write whose
    answer was lost), ``lost`` (absent or otherwise), ``unread`` (its page
    was not a 200)."""
    token = mint_token(SECRET, "soak-reader", SCOPES)
    found: dict[int, Any] = {}
    unread: set[int] = set()
    ids = sorted(rows)
    with httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {token}"}) as http:
        for first in range(0, len(ids), 100):
            chunk = ids[first : first + 100]
            query = {"filter[id][in]": ",".join(map(str, chunk)), "pageSize": "100"}
            response = http.get(f"/api/{collection}", params=query, timeout=30)
            if response.status_code != 200:
                unread.update(chunk)
                continue
            found.update((row["id"], row[field_name]) for row in response.json()["data"])
    verdict: Counter[str] = Counter()
    for row_id, written in rows.items():
        content = found.get(row_id, "<absent>")
        if row_id in unread:
            verdict["unread"] += 1
        elif content == written.acknowledged:
            verdict["kept"] += 1
        elif content in written.unsure:
            verdict["unsure"] += 1
        else:
            verdict["lost"] += 1
    return verdict


def table(phased: list[tuple[Outcome, str]]) -> str:
    """Requests by kind, phase and status (``201x12``)."""
    counts = Counter((o.kind, phase, o.status) for o, phase in phased)
    lines = [f"{'kind':<14}{'phase':<8}statuses"]
    for kind in sorted({o.kind for o, _ in phased}):
        for phase in ("before", "outage", "dead", "after"):
            cells = [
                f"{s}x{n}" for (k, p, s), n in sorted(counts.items()) if (k, p) == (kind, phase)
            ]
            if cells:
                lines.append(f"{kind:<14}{phase:<8}{' '.join(cells)}")
    return "\n".join(lines)


def test_the_system_keeps_every_acknowledged_write_through_a_crash_of_entity(
    system: dict[str, Deployed], capsys: pytest.CaptureFixture[str]
) -> None:
    gateway, killed = system["gateway"].url, system[KILLED]
    started = time.monotonic()
    end = [started + SOAK_SECONDS]  # moved on if the restart is late (see below)
    clients = [Client(n, gateway, lambda: end[0]) for n in range(CLIENTS)]
    for client in clients:
        client.start()

    fault = Fault()
    try:
        time.sleep(max(2.0, SOAK_SECONDS * KILL_AT))
        fault.kill = time.monotonic()
        killed.crash()
        fault.dead = time.monotonic()
        time.sleep(DEAD_SECONDS)
        fault.respawn = time.monotonic()
        killed.start()
        fault.ready = wait_until_ready(killed.url)
    except BaseException:
        end[0] = 0  # the clients stop at once
        raise
    # Enough traffic after readiness to see the recovery, however short the soak.
    end[0] = max(end[0], fault.ready + RECOVERY_SECONDS + 5)
    for client in clients:
        client.join(timeout=end[0] - time.monotonic() + 60)
    assert not any(c.is_alive() for c in clients), "a client is still waiting for an answer"
    assert not [c.error for c in clients if c.error], [c.error for c in clients]
    elapsed = time.monotonic() - started

    outcomes = sorted((o for c in clients for o in c.outcomes), key=lambda o: o.start)
    entities = {k: v for c in clients for k, v in c.entities.items()}
    notes = {k: v for c in clients for k, v in c.notes.items()}
    kept_entities = read_back(gateway, "entities", "purpose", entities)
    kept_notes = read_back(gateway, "notes", "body", notes)
    phased = [(o, fault.phase(o)) for o in outcomes]
    first_success = min(
        (
            o.end
            for o in outcomes
            if o.needs_entity and o.status == o.expected and o.start >= fault.respawn
        ),
        default=float("nan"),
    )

    failures: list[str] = []
    recovered = fault.ready  # the last 502/503/504 a client saw, at least readiness
    for o, phase in phased:
        at = f"{o.kind} {phase} {o.start - started:.3f}-{o.end - started:.3f}s {o.status}"
        ok = o.status == o.expected
        upstream_error = o.status in UPSTREAM_ERRORS
        if o.stale:
            failures.append(f"{at}: stale or wrong content: {o.detail}")
        if o.status == 0:
            failures.append(f"{at}: no answer: {o.detail}")
        elif not o.needs_entity or phase == "before":
            if not ok:
                failures.append(f"{at}: expected {o.expected}: {o.detail}")
        elif phase == "dead":
            if not upstream_error:
                failures.append(f"{at}: while {KILLED} was dead, expected 502/503/504")
        elif not ok and not upstream_error:
            failures.append(f"{at}: expected {o.expected} or 502/503/504: {o.detail}")
        elif upstream_error and phase == "after":
            recovered = max(recovered, o.end)
            if o.end > fault.ready + RECOVERY_SECONDS:
                failures.append(f"{at}: {RECOVERY_SECONDS} s after {KILLED} was ready")
        if o.status != o.expected and o.status and not o.problem:
            failures.append(f"{at}: not a problem document with a request id: {o.detail}")

    by_phase = Counter(phase for _, phase in phased)
    dead_entity = [o for o, p in phased if p == "dead" and o.needs_entity]
    dead_other = [o for o, p in phased if p == "dead" and not o.needs_entity]
    after_ok = [o for o, p in phased if p == "after" and o.needs_entity and o.status == o.expected]
    report = "\n".join(
        [
            f"soak: {elapsed:.1f} s, {CLIENTS} clients, {len(outcomes)} requests "
            f"({len(outcomes) / elapsed:.0f}/s); by phase: {dict(sorted(by_phase.items()))}",
            f"soak: {KILLED} killed (-9, master and workers) at {fault.kill - started:.1f} s, "
            f"port refused after {fault.dead - fault.kill:.3f} s, restarted after "
            f"{fault.respawn - fault.kill:.1f} s, ready {fault.ready - fault.kill:.2f} s after "
            f"the kill; through the gateway, first success {first_success - fault.ready:+.3f} s "
            f"and last 502/503/504 {recovered - fault.ready:+.3f} s from readiness",
            table(phased),
            f"soak: read back {sum(kept_entities.values())} entities {dict(kept_entities)}, "
            f"{sum(kept_notes.values())} notes {dict(kept_notes)}; "
            f"{sum(c.unacknowledged_creates for c in clients)} creates unacknowledged",
        ]
    )
    with capsys.disabled():
        print("\n" + report, flush=True)

    logs = "\n".join(f"--- {d.name}\n{d.log()}" for d in system.values())
    assert not failures, "\n".join([report, *failures[:40], logs])
    for verdict in (kept_entities, kept_notes):
        assert verdict["lost"] == verdict["unread"] == 0, report
    # The fault was real and the rest of the system held: requests met the dead
    # service, others were served meanwhile, and the restarted one served again.
    assert dead_entity and dead_other, report
    assert after_ok, report
    assert recovered - fault.ready <= RECOVERY_SECONDS, report
