"""Lists at scale (``--rows N``): the cases, and the markdown they are written to.

Each case is one list query, asked of the entity service and of the bare
baseline (`bench.references`) over the rows of `bench.seeding`; the run
(`bench.run`) measures each with wrk: p50 and p99 at one connection against
the target, req/s at 16 connections, server CPU per request. Then the cost of
the indexes on writes: creates at 16 connections with every list index, and
with none but the primary key's.
"""

from __future__ import annotations

import math
import os
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEEP_PAGE",
    "PAGE_SIZE",
    "P50_TARGET_MS",
    "ListCase",
    "list_cases",
    "machine",
    "markdown",
    "summary",
    "table",
]

P50_TARGET_MS = 50.0
"""The goal of every list at one connection (issue 13)."""
PAGE_SIZE = 20
DEEP_PAGE = "deep page"
"""The case whose URL is found at run time: the ``links.next`` of a page halfway down."""


@dataclass(frozen=True)
class ListCase:
    """One list query: its name, its query string (after ``/api/entities?``), what it shows."""

    name: str
    query: str
    what: str


def list_cases(rows: int, since: str) -> list[ListCase]:
    """The cases over *rows* rows; *since* is the ``createdAt`` that keeps the newest 10 %."""
    size = f"pageSize={PAGE_SIZE}"
    return [
        ListCase("unfiltered", size, "no filter: the first page and the total"),
        ListCase("equality", f"{size}&filter[purpose]=purpose%2042", "one purpose of 100: 1 %"),
        ListCase(
            "range",
            f"{size}&filter[createdAt][gte]={since}",
            "createdAt from a time that keeps the newest 10 %, in the default order (id)",
        ),
        ListCase(
            "range, by createdAt",
            f"{size}&filter[createdAt][gte]={since}&sort=-createdAt",
            "the same range, sorted by the filtered field: one index serves both",
        ),
        ListCase(
            "contains",
            f"{size}&filter[name][contains]=abc",
            "3 hex digits inside the names: about 0.15 %",
        ),
        ListCase(
            "search",
            f"{size}&search=entity%20abc",
            "two terms, each in name or purpose: every row has 'entity', 0.15 % 'abc'",
        ),
        ListCase("search, no match", f"{size}&search=zzz", "a term no row holds"),
        ListCase("sort=name", f"{size}&sort=name", "the first page by name"),
        ListCase("sort=-createdAt", f"{size}&sort=-createdAt", "the newest first"),
        ListCase(
            DEEP_PAGE,
            f"sort=-createdAt&page={max(1, rows // PAGE_SIZE // 2)}",
            "links.next of the page halfway down sort=-createdAt (page number or cursor)",
        ),
    ]


def machine() -> str:
    """This machine in a line: CPU model, cores, memory, kernel."""
    cpu = "unknown CPU"
    info = Path("/proc/cpuinfo")
    if info.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", info.read_text(), re.MULTILINE)
        cpu = found[1].strip() if found else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = re.search(r"^MemTotal:\s+(\d+) kB", meminfo.read_text(), re.MULTILINE)
        memory = f", {int(kib[1]) / 1024**2:.0f} GiB" if kib else ""
    return f"{cpu}, {os.cpu_count()} cores{memory}, Linux {platform.release()}"


def _timed(p50_ms: float) -> bool:
    """Whether a request finished at all: wrk gives 0 (or nothing) when none
    did in its time."""
    return math.isfinite(p50_ms) and p50_ms > 0


def _case_rows(figures: Mapping[str, Any]) -> list[str]:
    rows = [
        "| case | target | p50 ms (1c) | p99 ms (1c) | req/s (16c) | CPU ms/req | errors "
        f"| p50 ≤ {P50_TARGET_MS:g} ms | service / baseline req/s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    measured = figures["measurements"]
    for case in figures["cases"]:
        for target in ("service", "baseline"):
            m = measured.get(f"{case['name']} {target}")
            if m is None:
                continue
            timed = _timed(m["p50_1c_ms"])
            met = "yes" if timed and m["p50_1c_ms"] <= P50_TARGET_MS else "no"
            p50 = f"{m['p50_1c_ms']:.1f}" if timed else "none finished"
            p99 = f"{m['p99_1c_ms']:.1f}" if timed else "-"
            other = measured.get(f"{case['name']} baseline")
            ratio = f"{m['rps'] / other['rps']:.2f}" if target == "service" and other else ""
            rows.append(
                f"| {case['name']} | {target} | {p50} | {p99} "
                f"| {m['rps']:.0f} | {m['cpu_ms']:.2f} | {m['errors']:.0f} | {met} | {ratio} |"
            )
    return rows


def _write_rows(writes: Mapping[str, Mapping[str, float]]) -> list[str]:
    rows = [
        "| target | creates/s with the list indexes | without them | with / without |",
        "| --- | ---: | ---: | ---: |",
    ]
    for target, w in writes.items():
        rows.append(
            f"| {target} | {w['with']:.0f} | {w['without']:.0f} "
            f"| {w['with'] / w['without']:.2f} |"
        )
    return rows


def table(figures: Mapping[str, Any]) -> str:
    """The figures as markdown tables: the cases, then the writes (when measured)."""
    rows = _case_rows(figures)
    if figures.get("writes"):
        rows += ["", *_write_rows(figures["writes"])]
    return "\n".join(rows)


def summary(figures: Mapping[str, Any]) -> str:
    """Which cases the service answers within the target at one connection."""
    measured = figures["measurements"]
    names = [c["name"] for c in figures["cases"] if f"{c['name']} service" in measured]
    misses = []
    for name in names:
        p50 = measured[f"{name} service"]["p50_1c_ms"]
        if not _timed(p50):
            misses.append(f"{name} (none finished)")
        elif p50 > P50_TARGET_MS:
            misses.append(f"{name} ({p50:.0f} ms)")
    met = f"The service meets the target in {len(names) - len(misses)} of {len(names)} cases"
    return f"{met}; misses: {', '.join(misses)}." if misses else f"{met}."


def _differing(figures: Mapping[str, Any]) -> str:
    if not figures.get("differing"):
        return ""
    names = ", ".join(figures["differing"])
    return f"\nThe service and the baseline answered different pages for: {names}.\n"


def markdown(figures: Mapping[str, Any]) -> str:
    """The whole page of ``docs/benchmarks/lists-<database>-<rows>.md``."""
    seeded = figures["seeded"]
    command = f"./pants run bench:run -- --rows {figures['rows']}" + (
        " --quick" if figures["quick"] else ""
    )
    cases = "\n".join(f"| {c['name']} | `{c['query']}` | {c['what']} |" for c in figures["cases"])
    indexes = ", ".join(f"`{name}`" for name in figures["indexes"]) or "none"
    return f"""# Lists at scale: {figures['database']}, {figures['rows']:,} entities

- When: {figures['when']}
- Machine: {figures['machine']}
- Database: {figures['database_version']}
- Run: `{command}`: {figures['how']}
- Rows: {figures['rows']:,} entities, seeded in {seeded['total_s']:.1f} s (load \
{seeded['load_s']:.1f} s, indexes {seeded['index_s']:.1f} s, statistics {seeded['analyze_s']:.1f} s)
- Indexes of `entities` besides the primary key: {indexes}

The servers and the database share one core, wrk has the other, and other
work ran on the machine meanwhile: the figures are indicative.

Target: every list answers with p50 ≤ {P50_TARGET_MS:g} ms at one connection.
"p50/p99 (1c)" are wrk's at one connection, "req/s (16c)" at 16 connections;
CPU is the server workers' own per request at 16 connections (the database's
is not in it). Each case is asked of the entity service and of the bare
baseline (`bench/references.py`: Flask, SQLAlchemy Core, the same SQL).

## Rows

Row *i* has the name `entity 0000123 3fa9c2e1` (the number, then 8 hex
digits of md5 of it), the purpose `purpose <i % 100>`, the owner `bench`, and
a `createdAt` one second after row *i - 1*'s.

## Cases

| case | query (`/api/entities?...`) | what |
| --- | --- | --- |
{cases}

## Figures

{summary(figures)}

{table(figures)}
{_differing(figures)}
"with / without": create throughput with every list index over that without
any index but the primary key's (the last measurement of the run, after
dropping them): below 1 is what the indexes cost on writes.
"""
