"""The bench's own arithmetic and parsing (the measurements run with ./pants run bench:run)."""

import math

import pytest

from bench.run import _ms, geomean, parse_wrk

WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:5000/api/math/sum?a=1&b=2
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.49ms    6.76ms  50.52ms   89.78%
    Req/Sec     2.07k   213.45     2.29k    80.00%
  Latency Distribution
     50%    4.41ms
     75%    7.67ms
     90%   13.58ms
     99%   36.02ms
  2063 requests in 1.00s, 367.32KB read
  Non-2xx or 3xx responses: 3
Requests/sec:   2054.73
Transfer/sec:    365.69KB
"""


def test_parse_wrk() -> None:
    load = parse_wrk(WRK_OUTPUT)
    assert (load.rps, load.p50_ms, load.p99_ms, load.requests, load.errors) == (
        2054.73,
        4.41,
        36.02,
        2063,
        3,
    )


@pytest.mark.parametrize(("text", "ms"), [("850us", 0.85), ("4.41ms", 4.41), ("1.5s", 1500.0)])
def test_units(text: str, ms: float) -> None:
    assert _ms(text) == pytest.approx(ms)


def test_geomean_ignores_what_is_not_a_figure() -> None:
    assert geomean([2.0, 8.0]) == pytest.approx(4.0)
    assert geomean([4.0, math.nan, 0.0]) == pytest.approx(4.0)
    assert math.isnan(geomean([]))
