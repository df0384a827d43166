"""The benchmark's parsing of wrk output (the benchmark itself never runs in tests:
timings on a shared machine are not assertions)."""

import importlib.util

from .helpers import TEMPLATE_ROOT

spec = importlib.util.spec_from_file_location(
    "bench_run", TEMPLATE_ROOT / "bench/run.py"
)
assert spec is not None
assert spec.loader is not None
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

WRK_OUTPUT = """\
Running 6s test @ http://127.0.0.1:41234
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.12ms    3.01ms  40.22ms   81.00%
    Req/Sec     2.10k   120.00     2.30k    70.00%
  Latency Distribution
     50%   14.95ms
     75%   16.20ms
     90%   18.00ms
     99%    1.02s
  12560 requests in 6.00s, 9.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   2093.33
Transfer/sec:      1.52MB
"""


def test_parse_wrk_reads_rate_percentiles_and_every_kind_of_error() -> None:
    result = bench.parse_wrk(WRK_OUTPUT)

    assert result.requests_per_second == 2093.33
    assert result.p50_ms == 14.95
    assert result.p99_ms == 1020.0
    assert result.errors == 7
