"""``./pants run bench:run [-- --quick]``: the services measured against references.

One run, on this machine: migrate and seed 10,000 entities, start every server
under gunicorn with the same settings (2 workers; the services exactly as the
stack starts them), then measure, interleaved and repeated (medians), with
``wrk`` (a C load generator, never the bottleneck here): throughput, p50 and
p99 at 16 connections; p50 at 1 connection; server CPU per request (from the
workers' own CPU accounting); RSS and PSS per worker; time from start to first 200;
and, on PostgreSQL, whether the database connections stay the same under load.
Servers (and PostgreSQL) are pinned to core 0 and wrk to core 1 where
``taskset`` can. SQLite by default; ``DATABASE_URL`` selects PostgreSQL.

Prints a table of figures and ratios, writes it to ``bench/results/`` as
markdown and a PNG chart, and prints one line of JSON last.

``--rows N`` measures lists at scale instead (`bench.scale`): N entities
seeded fast (`bench.seeding`), only the entity service and the baseline
started, ten list queries each measured at one connection (p50, p99) and
at 16 (req/s, CPU per request), then creates with and without the list
indexes; the table goes to stdout and to ``docs/benchmarks/lists-<database>-<N>.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import migrate
from bench.references import COUNT_LIMIT_SETTING, entities
from bench.scale import DEEP_PAGE, PAGE_SIZE, ListCase, list_cases, machine
from bench.scale import markdown as scale_markdown
from bench.scale import summary as scale_summary
from bench.scale import table as scale_table
from bench.seeding import Seeded, drop_secondary_indexes, secondary_indexes, seed_rows
from core import serve
from core.auth import mint_token
from core.database import scratch_database
from core.process import free_port, service_command
from core.query import COUNT_EXACT_UP_TO
from core.registry import read
from deployables import deployables

REGISTRY = read(deployables())
SECRET = "bench-secret-" + "x" * 32
TOKEN = mint_token(SECRET, "bench", "entity:read entity:write", lifetime=24 * 3600)
ENTITY_ROWS = 10_000
LIST = "/api/entities?pageSize=20&sort=-createdAt&filter[name][contains]=7"
GET = "/api/entities/5000"
SUM = "/api/math/sum?a=1&b=2"
WORKERS = str(serve.WORKERS)
SERVER_CPU, LOAD_CPU = "0", "1"
TICKS = os.sysconf("SC_CLK_TCK")


# -- servers --------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    first_200: float = math.nan

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log: Path) -> None:
        pin = ["taskset", "-c", SERVER_CPU] if shutil.which("taskset") else []
        started = time.monotonic()
        self.process = subprocess.Popen(
            [*pin, *self.command, "--bind", f"127.0.0.1:{self.port}"],
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(sys.path),
                **self.env,
                "DATABASE_URL": named(self.env["DATABASE_URL"], self.name),
            },
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = started + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        self.first_200 = time.monotonic() - started
                        return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.005)
        raise RuntimeError(f"{self.name} did not start; see {log}")

    def workers(self) -> list[int]:
        assert self.process is not None
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [int(pid) for pid in children]

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / TICKS

    def memory_mib(self, field: str) -> float:
        """The mean over the workers of *field* of ``smaps_rollup`` (``Rss``, ``Pss``).

        RSS counts every page a worker maps, those it shares with the master
        and the other workers included; PSS divides each shared page among
        its sharers, so it is what one more worker costs.
        """
        sizes = []
        for pid in self.workers():
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            kib = re.search(rf"^{field}:\s+(\d+) kB", rollup, re.MULTILINE)[1]  # type: ignore[index]
            sizes.append(int(kib) / 1024)
        return statistics.mean(sizes)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def gunicorn(app: str, *extra: str) -> list[str]:
    """A reference server with the services' settings (`core.serve`)."""
    return [
        sys.executable, "-m", "gunicorn", app, "--workers", WORKERS, "--no-control-socket",
        "--worker-class", "gthread", "--threads", str(serve.THREADS), "--preload", *extra,
    ]  # fmt: skip


# -- load -------------------------------------------------------------------------------

POST_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"name": "bench entity 7", "purpose": "load"}'
wrk.headers["Content-Type"] = "application/json"
"""


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str, connections: int, seconds: int, post: bool, script_dir: Path, timeout: int = 5
) -> Load:
    pin = ["taskset", "-c", LOAD_CPU] if shutil.which("taskset") else []
    command = [
        *pin, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
        "--timeout", f"{timeout}s",
        "-H", f"Authorization: Bearer {TOKEN}",
    ]  # fmt: skip
    if post:
        script = script_dir / "post.lua"
        script.write_text(POST_SCRIPT)
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> Load:
    """The figures of one ``wrk --latency`` run."""
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if "50" not in latency or "99" not in latency:
        print(f"bench: wrk gave no latency distribution:\n{output}", file=sys.stderr, flush=True)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Load(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),  # type: ignore[index]
        p50_ms=_ms(latency["50"]) if "50" in latency else math.nan,
        p99_ms=_ms(latency["99"]) if "99" in latency else math.nan,
        requests=int(re.search(r"(\d+) requests in", output)[1]),  # type: ignore[index]
        errors=(int(errors[1]) if errors else 0)
        + (sum(int(g) for g in socket_errors.groups()) if socket_errors else 0),
    )


# -- database ---------------------------------------------------------------------------


def seed(url: str) -> None:
    migrate.upgrade_all(url)
    now = dt.datetime.now(dt.UTC)
    engine = sa.create_engine(url)
    rows = [
        {
            "name": f"entity {i:05d}",
            "purpose": f"purpose {i % 97}",
            "owner_id": "bench",
            "created_at": now - dt.timedelta(seconds=ENTITY_ROWS - i),
            "updated_at": now,
            "version": 1,
        }
        for i in range(1, ENTITY_ROWS + 1)
    ]
    with engine.begin() as conn:
        conn.execute(entities.insert(), rows)
    engine.dispose()


def trim(url: str, rows: int = ENTITY_ROWS) -> None:
    """Back to the *rows* seeded rows: what the creates add would make every later list slower."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.execute(entities.delete().where(entities.c.id > rows))
    if url.startswith("postgresql"):  # dead rows out of the scans, statistics fresh
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE entities"))
    engine.dispose()


def pin_postgres(core: str) -> None:
    """Put PostgreSQL's processes on *core* (new backends inherit it)."""
    if not shutil.which("taskset"):
        return
    for pid in subprocess.run(
        ["pgrep", "-x", "postgres"], capture_output=True, text=True
    ).stdout.split():
        subprocess.run(["taskset", "-pc", core, pid], capture_output=True)


def named(url: str, server: str) -> str:
    """*url* with the server's name as PostgreSQL's ``application_name``."""
    if not url.startswith("postgresql"):
        return url
    named_url = sa.engine.make_url(url).update_query_dict({"application_name": server})
    return named_url.render_as_string(hide_password=False)


def backend_pids(url: str) -> dict[str, set[int]]:
    """The server processes' connections to the database, by server (`named`)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT application_name, pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
    engine.dispose()
    found: dict[str, set[int]] = {}
    for name, pid in rows:
        found.setdefault(name or "?", set()).add(pid)
    return found


# -- the run ------------------------------------------------------------------------------


@dataclass
class Case:
    endpoint: str  # list, get, create, sum; or a list case's name (bench.scale)
    target: str  # service, gateway, baseline, fastapi, ceiling
    server: Server  # whose CPU counts
    url: str

    @property
    def post(self) -> bool:
        return self.endpoint == "create"


def geomean(values: list[float]) -> float:
    values = [v for v in values if v > 0 and math.isfinite(v)]
    return math.exp(statistics.mean(math.log(v) for v in values)) if values else math.nan


def measure(
    cases: list[Case],
    repeats: int,
    seconds: int,
    script_dir: Path,
    after_write: Callable[[], None],
    timeout: int = 5,
) -> dict[tuple[str, str], dict[str, float]]:
    """Every case once per round, *repeats* rounds; *after_write* after each case that writes;
    wrk gives up on a request after *timeout* seconds."""
    samples: dict[tuple[str, str], dict[str, list[float]]] = {}
    for repeat in range(repeats):
        for case in cases:  # interleaved: every case once per round
            key = (case.endpoint, case.target)
            before = case.server.cpu_seconds()
            load = wrk(case.url, 16, seconds, case.post, script_dir, timeout)
            cpu_ms = (case.server.cpu_seconds() - before) * 1000 / max(load.requests, 1)
            single = wrk(case.url, 1, max(1, seconds // 2), case.post, script_dir, timeout)
            if case.post:
                after_write()
            s = samples.setdefault(key, {})
            for name, value in (
                ("rps", load.rps),
                ("p50_ms", load.p50_ms),
                ("p99_ms", load.p99_ms),
                ("cpu_ms", cpu_ms),
                ("p50_1c_ms", single.p50_ms),
                ("p99_1c_ms", single.p99_ms),
                ("errors", load.errors + single.errors),
            ):
                s.setdefault(name, []).append(value)
        print(f"bench: round {repeat + 1}/{repeats} done", flush=True)
    return {
        key: {
            name: (sum(values) if name == "errors" else statistics.median(values))
            for name, values in metrics.items()
        }
        for key, metrics in samples.items()
    }


def report(figures: dict[str, Any]) -> str:
    rows = ["| endpoint | target | req/s (16c) | p50 ms | p99 ms | p50 ms (1c) | CPU ms/req | errors |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for key, m in figures["measurements"].items():
        endpoint, target = key.split(" ")
        rows.append(
            f"| {endpoint} | {target} | {m['rps']:.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} "
            f"| {m['p50_1c_ms']:.2f} | {m['cpu_ms']:.3f} | {m['errors']:.0f} |"
        )
    rows += ["", "| ratio | value | target |", "| --- | ---: | --- |"]
    for name, (value, goal) in figures["ratios"].items():
        rows.append(f"| {name} | {value:.2f} | {goal} |")
    rows += [
        "",
        "| server | RSS MiB/worker | PSS MiB/worker | first 200 s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, s in figures["servers"].items():
        rows.append(
            f"| {name} | {s['rss_mib']:.1f} | {s['pss_mib']:.1f} | {s['first_200_s']:.2f} |"
        )
    if figures.get("connections"):
        rows += [
            "",
            "| server | PostgreSQL connections after the warm-up | after the run | opened during it |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, c in figures["connections"].items():
            rows.append(f"| {name} | {c['before']} | {c['after']} | {c['new']} |")
    return "\n".join(rows)


def chart(figures: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measurements = figures["measurements"]
    endpoints = ["list", "get", "create", "sum"]
    targets = ["service", "gateway", "baseline", "fastapi", "ceiling"]
    fig, ax = plt.subplots(figsize=(10, 5))
    width = 0.16
    for i, target in enumerate(targets):
        values = [measurements.get(f"{e} {target}", {}).get("rps", 0) for e in endpoints]
        ax.bar([x + i * width for x in range(len(endpoints))], values, width, label=target)
    ax.set_xticks([x + 2 * width for x in range(len(endpoints))], endpoints)
    ax.set_ylabel("requests/s at 16 connections (median)")
    ax.set_title(f"flask-blueprint benchmark ({figures['database']}, {figures['when']})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


# -- lists at scale (--rows N) -----------------------------------------------------------

SCALE_TIMEOUT = 60
"""Seconds wrk waits for one list at scale (some take seconds without their indexes)."""
SCALE_OUT = Path("docs/benchmarks")


def get_json(url: str) -> Any:
    """GET *url* with the bench's token; the JSON body."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=SCALE_TIMEOUT) as response:
        return json.loads(response.read())


def newest_tenth(entity: Server, rows: int) -> str:
    """The ``createdAt`` (quoted for a URL) from which the newest 10 % of *rows* rows are."""
    first = rows - rows // 10 + 1
    created = get_json(f"{entity.url}/api/entities/{first}")["data"]["createdAt"]
    return urllib.parse.quote(created, safe="")


def deep_page_urls(entity: Server, baseline: Server, case: ListCase) -> tuple[str, str]:
    """The URLs of the deep-page case: the service's ``links.next`` of the page
    *case* asks for, and the baseline's same next page, by keyset (``after``)
    when the service's link is a cursor, else by page number."""
    service_next = get_json(f"{entity.url}/api/entities?{case.query}")["links"]["next"]
    base = f"{baseline.url}/api/entities?sort=-createdAt&pageSize={PAGE_SIZE}"
    if "cursor=" not in service_next:
        page = int(urllib.parse.parse_qs(case.query)["page"][0])
        return service_next, f"{base}&page={page + 1}"
    last = get_json(f"{baseline.url}/api/entities?{case.query}")["data"][-1]
    return service_next, f"{base}&after={urllib.parse.quote(last['createdAt'])},{last['id']}"


def case_urls(
    entity: Server, baseline: Server, rows: int
) -> tuple[list[ListCase], dict[str, tuple[str, str]]]:
    """The cases over *rows* rows (the deep page's query the one measured), and the
    service's and the baseline's URL of each, by name."""
    cases, urls = [], {}
    for case in list_cases(rows, newest_tenth(entity, rows)):
        if case.name == DEEP_PAGE:
            urls[case.name] = deep_page_urls(entity, baseline, case)
            measured = urllib.parse.urlsplit(urls[case.name][0])
            case = ListCase(case.name, measured.query, f"{case.what}; fetched: {case.query}")
        else:
            path = f"/api/entities?{case.query}"
            urls[case.name] = (entity.url + path, baseline.url + path)
        cases.append(case)
    return cases, urls


def differing_pages(urls: dict[str, tuple[str, str]]) -> list[str]:
    """The cases whose page of ids differs between the service and the baseline:
    the two are to run the same query."""
    differ = []
    for name, pair in urls.items():
        ids = [[item["id"] for item in get_json(url)["data"]] for url in pair]
        if ids[0] != ids[1]:
            differ.append(name)
    return differ


def write_cost(
    url: str, rows: int, targets: dict[str, Server], repeats: int, seconds: int, folder: Path
) -> dict[str, dict[str, float]]:
    """Creates/s at 16 connections with every list index, then without any but the
    primary key's (dropped here: the run's last measurement), by target."""
    creates = [Case("create", t, s, f"{s.url}/api/entities") for t, s in targets.items()]
    for case in creates:
        wrk(case.url, 4, 1, True, folder)
    trim(url, rows)
    indexed = measure(creates, repeats, seconds, folder, lambda: trim(url, rows))
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        dropped = drop_secondary_indexes(conn)
    engine.dispose()
    print(f"bench: dropped {len(dropped)} indexes: {', '.join(dropped)}", flush=True)
    bare = measure(creates, repeats, seconds, folder, lambda: trim(url, rows))
    return {
        case.target: {
            "with": indexed[("create", case.target)]["rps"],
            "without": bare[("create", case.target)]["rps"],
            "errors": indexed[("create", case.target)]["errors"]
            + bare[("create", case.target)]["errors"],
        }
        for case in creates
    }


def database_facts(url: str) -> tuple[str, list[str]]:
    """The database's name and version, and the secondary indexes of ``entities``."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            version = f"PostgreSQL {conn.scalar(sa.text('SHOW server_version'))}"
        else:
            version = f"SQLite {conn.scalar(sa.text('SELECT sqlite_version()'))}"
        indexes = sorted(secondary_indexes(conn))
    engine.dispose()
    return version, indexes


def seeded_figures(seeded: Seeded) -> dict[str, float]:
    """How long seeding took, step by step, for the figures' JSON."""
    return {
        "load_s": seeded.load_s,
        "index_s": seeded.index_s,
        "analyze_s": seeded.analyze_s,
        "total_s": seeded.total_s,
    }


def lists_at_scale(rows: int, quick: bool) -> None:
    """Seed *rows* entities, measure every list case (`bench.scale`) against the
    service and the baseline, then the indexes' cost on creates; print the
    table and write it to `SCALE_OUT`."""
    repeats, seconds = (1, 2) if quick else (3, 4)
    SCALE_OUT.mkdir(parents=True, exist_ok=True)
    log = Path("bench/results/servers-scale.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    with (
        tempfile.TemporaryDirectory() as tmp,
        scratch_database(os.environ.get("DATABASE_URL"), Path(tmp), "bench") as url,
    ):
        folder = Path(tmp)
        postgres = url.startswith("postgresql")
        if postgres:
            pin_postgres(SERVER_CPU)
        print(f"bench: seeding {rows:,} entities", flush=True)
        seeded = seed_rows(url, rows)
        print(
            f"bench: seeded in {seeded.total_s:.1f} s (load {seeded.load_s:.1f} s, "
            f"indexes {seeded.index_s:.1f} s, statistics {seeded.analyze_s:.1f} s)",
            flush=True,
        )
        version, indexes = database_facts(url)
        common = {
            "DATABASE_URL": url,
            "JWT_SECRET": SECRET,
            "LOG_LEVEL": "WARNING",
            "WEB_CONCURRENCY": WORKERS,
        }
        entity = Server(
            "entity",
            service_command(REGISTRY["entity"].package),
            {**common, "TRUSTED_PROXY_HOPS": "1"},
        )
        # The baseline counts as the service does (`core.query.count`).
        baseline = Server(
            "baseline",
            gunicorn("bench.references:baseline()"),
            {**common, COUNT_LIMIT_SETTING: str(COUNT_EXACT_UP_TO)},
        )
        try:
            entity.start(log)
            baseline.start(log)
            cases, urls = case_urls(entity, baseline, rows)
            differ = differing_pages(urls)
            if differ:
                print(f"bench: service and baseline pages differ: {differ}", flush=True)
            measured = [
                Case(name, target, server, pair[i])
                for name, pair in urls.items()
                for i, (target, server) in enumerate((("service", entity), ("baseline", baseline)))
            ]
            for case in measured:  # warm up
                wrk(case.url, 4, 1, False, folder, SCALE_TIMEOUT)
            print(
                f"bench: {len(measured)} list cases, {repeats} round(s) of {seconds} s", flush=True
            )
            results = measure(measured, repeats, seconds, folder, lambda: None, SCALE_TIMEOUT)
            writes = write_cost(
                url, rows, {"service": entity, "baseline": baseline}, repeats, seconds, folder
            )
        finally:
            for server in (entity, baseline):
                server.stop()
            if postgres:
                pin_postgres("0-1")
    figures: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "database": "postgresql" if postgres else "sqlite",
        "database_version": version,
        "indexes": indexes,
        "rows": rows,
        "quick": quick,
        "how": (
            f"{repeats} round(s) per case, each {seconds} s at 16 connections then "
            f"{max(1, seconds // 2)} s at one, interleaved; medians over the rounds; "
            f"count policy followed by the baseline: "
            f"exact up to {COUNT_EXACT_UP_TO:,}"
        ),
        "seeded": seeded_figures(seeded),
        "cases": [vars(case) for case in cases],
        "differing": differ,
        "measurements": {f"{e} {t}": v for (e, t), v in results.items()},
        "writes": writes,
    }
    print(scale_table(figures))
    print(scale_summary(figures))
    path = SCALE_OUT / f"lists-{figures['database']}-{rows}{'-quick' if quick else ''}.md"
    path.write_text(scale_markdown(figures))
    print(f"bench: wrote {path}", flush=True)
    print(json.dumps(figures, separators=(",", ":")))


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench", description="Benchmark the services.")
    parser.add_argument("--quick", action="store_true", help="the same measurements, shorter")
    parser.add_argument(
        "--rows",
        type=int,
        metavar="N",
        help="measure lists at scale over N seeded entities instead (see bench.scale)",
    )
    options = parser.parse_args()
    if not shutil.which("wrk"):
        print("bench: installing wrk (Debian)", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    if options.rows is None:
        services_against_references(options.quick)
    else:
        lists_at_scale(options.rows, options.quick)


def services_against_references(quick: bool) -> None:
    """The run over `ENTITY_ROWS` entities: every server, every endpoint, the ratios."""
    repeats, seconds = (3, 1) if quick else (5, 4)
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        scratch_database(os.environ.get("DATABASE_URL"), Path(tmp), "bench") as url,
    ):
        folder = Path(tmp)
        postgres = url.startswith("postgresql")
        if postgres:
            pin_postgres(SERVER_CPU)
        seed(url)
        common = {
            "DATABASE_URL": url,
            "JWT_SECRET": SECRET,
            "LOG_LEVEL": "WARNING",
            "WEB_CONCURRENCY": WORKERS,
        }
        # Every service of the registry, as the stack starts them, and the gateway.
        services = {
            d.name: Server(
                d.name, service_command(d.package), {**common, "TRUSTED_PROXY_HOPS": "1"}
            )
            for d in REGISTRY.services
        }
        urls = {name: server.url for name, server in services.items()}
        for d in REGISTRY.services:
            services[d.name].env.update(REGISTRY.url_settings(urls, d.calls))
        entity, math_ = services["entity"], services["math"]
        log = out / "servers.log"
        log.write_text("")
        gateway = Server(
            "gateway",
            service_command(REGISTRY.gateway.package),
            {
                **common,
                **REGISTRY.url_settings(urls, urls),
                "RATELIMIT_DEFAULT": "100000000/minute",
            },
        )
        baseline = Server("baseline", gunicorn("bench.references:baseline()"), common)
        fastapi = Server(
            "fastapi",
            gunicorn(
                "bench.fastapi_peer:fastapi_app()", "--worker-class", "uvicorn_worker.UvicornWorker"
            ),
            common,
        )
        ceiling = Server("ceiling", gunicorn("bench.references:ceiling()"), common)
        servers = [*services.values(), gateway, baseline, fastapi, ceiling]
        try:
            for server in servers:
                server.start(log)
            print(
                f"bench: {'PostgreSQL' if postgres else 'SQLite'}, {ENTITY_ROWS} entities; load by wrk "
                f"(C, pinned to core {LOAD_CPU}; servers on core {SERVER_CPU}); "
                f"{repeats} rounds of {seconds:g} s per case",
                flush=True,
            )
            cases = []
            for endpoint, path in (("list", LIST), ("get", GET), ("create", "/api/entities")):
                cases += [
                    Case(endpoint, "service", entity, entity.url + path),
                    Case(endpoint, "gateway", gateway, gateway.url + path),
                    Case(endpoint, "baseline", baseline, baseline.url + path),
                    Case(endpoint, "fastapi", fastapi, fastapi.url + path),
                ]
            cases += [
                Case("sum", "service", math_, math_.url + SUM),
                Case("sum", "gateway", gateway, gateway.url + SUM),
                Case("sum", "ceiling", ceiling, ceiling.url + SUM),
            ]
            for case in cases:  # warm up: pools filled, code paths loaded
                wrk(case.url, 4, 1, case.post, folder)
            trim(url)
            before = backend_pids(url) if postgres else {}
            results = measure(cases, repeats, seconds, folder, lambda: trim(url))
            after = backend_pids(url) if postgres else {}
            memory = {s.name: (s.memory_mib("Rss"), s.memory_mib("Pss")) for s in servers}
        finally:
            for server in servers:
                server.stop()
            if postgres:
                pin_postgres("0-1")

    def m(endpoint: str, target: str, name: str) -> float:
        return results[(endpoint, target)][name]

    crud = ("list", "get", "create")
    ratios: dict[str, tuple[float, str]] = {}
    for e in crud:
        ratios[f"{e}: service / baseline req/s"] = (
            m(e, "service", "rps") / m(e, "baseline", "rps"),
            ">= 0.85 (each >= 0.8)",
        )
    ratios["geomean service / baseline req/s"] = (
        geomean([ratios[f"{e}: service / baseline req/s"][0] for e in crud]),
        ">= 0.85",
    )
    ratios["geomean service / baseline CPU per request"] = (
        geomean([m(e, "service", "cpu_ms") / m(e, "baseline", "cpu_ms") for e in crud]),
        "<= 1.2",
    )
    ratios["geomean service / fastapi req/s"] = (
        geomean([m(e, "service", "rps") / m(e, "fastapi", "rps") for e in crud]),
        ">= 1.5",
    )
    for e in (*crud, "sum"):
        ratios[f"{e}: gateway / direct req/s"] = (
            m(e, "gateway", "rps") / m(e, "service", "rps"),
            ">= 0.4",
        )
        ratios[f"{e}: gateway added p50 ms (1c)"] = (
            m(e, "gateway", "p50_1c_ms") - m(e, "service", "p50_1c_ms"),
            "<= 0.5",
        )
    ratios["gateway CPU ms per proxied request (sum)"] = (m("sum", "gateway", "cpu_ms"), "<= 0.5")
    ratios["ceiling / baseline req/s (get)"] = (m("sum", "ceiling", "rps") / m("get", "baseline", "rps"), "(about 4)")  # fmt: skip
    figures: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "database": "postgresql" if postgres else "sqlite",
        "quick": quick,
        "measurements": {f"{e} {t}": v for (e, t), v in results.items()},
        "ratios": ratios,
        "servers": {
            s.name: {
                "rss_mib": memory[s.name][0],
                "pss_mib": memory[s.name][1],
                "first_200_s": s.first_200,
            }
            for s in servers
        },
        "connections": (
            {
                name: {
                    "before": len(before.get(name, set())),
                    "after": len(after.get(name, set())),
                    "new": len(after.get(name, set()) - before.get(name, set())),
                }
                for name in sorted(set(before) | set(after))
            }
            if postgres
            else None
        ),
    }
    table = report(figures)
    print(table)
    stem = f"{figures['database']}{'-quick' if quick else ''}"
    (out / f"{stem}.md").write_text(
        f"# Benchmark, {figures['database']}, {figures['when']}\n\n{table}\n"
    )
    chart(figures, out / f"{stem}.png")
    print(f"bench: wrote {out / stem}.md and .png", flush=True)
    machine = {**figures, "ratios": {k: v for k, (v, _) in ratios.items()}}
    print(json.dumps(machine, separators=(",", ":")))


if __name__ == "__main__":
    main()
