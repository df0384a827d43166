"""Soak a rendered service: mixed reads and writes from 64 clients on a small pool.

    uv run python bench/soak.py [--connections 64] [--requests 100000] [--seconds 60]

Renders the template with default answers but a pool of 5 + 5, installs it,
migrates and seeds a scratch database on 127.0.0.1:5432 (with the rendered
project's bench/seed.py, as its `make bench` does), serves it with uvicorn
pinned to CPU 0 and loads it with wrk pinned to CPU 1: half the requests read
one user with orders, a fifth a page of 50, a fifth create a user, a tenth
rename one. After a 10 s warm-up it loads in
rounds of 20 s until it has sent --requests and run --seconds, then prints per
round: requests, p99, statuses, and the service's RSS; and at the end whether
the service kept its promises: no 5xx but 503, every 503 with Retry-After, RSS
growth under 10% after warm-up, and the connections back to the pool's size.
Exits 1 if one was broken. Timings are never asserted in the test suite.
"""

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from run import ensure_wrk, free_port, prepare_service, psql, run_wrk, serve

POOL_SIZE, MAX_OVERFLOW = 5, 5
SERVICE_NAME = f"soak-{os.getpid()}"

MIXED = """
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local prefix = os.getenv("BENCH_PREFIX")
local json = {["Content-Type"] = "application/json"}
local counter = 0
statuses = {}
unannounced_503 = 0

request = function()
  counter = counter + 1
  local pick = counter % 10
  local user = "/api/v1/users/" .. ids[math.random(#ids)]
  if pick < 5 then return wrk.format("GET", user) end
  if pick < 7 then return wrk.format("GET", "/api/v1/users?limit=50") end
  if pick < 9 then
    local body = '{"email": "' .. prefix .. counter .. '@soak.example",'
      .. ' "full_name": "Soak"}'
    return wrk.format("POST", "/api/v1/users", json, body)
  end
  return wrk.format("PATCH", user, json, '{"full_name": "Renamed ' .. counter .. '"}')
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and headers["retry-after"] == nil
      and headers["Retry-After"] == nil then
    unannounced_503 = unannounced_503 + 1
  end
end

local threads = {}
setup = function(thread) threads[#threads + 1] = thread end

done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("status %d %d\\n", status, count))
    end
    io.write(string.format("unannounced_503 %d\\n", thread:get("unannounced_503")))
  end
  local errors = summary.errors
  io.write(string.format("requests %d\\n", summary.requests))
  io.write(string.format("socket_errors %d\\n",
    errors.connect + errors.read + errors.write + errors.timeout))
  io.write(string.format("p99_us %d\\n", latency:percentile(99)))
end
"""


@dataclass
class Round:
    requests: int
    p99_ms: float
    statuses: dict[int, int]
    unannounced_503: int
    socket_errors: int
    rss_mib: float


@dataclass
class Soak:
    warm_rss_mib: float = 0.0
    rounds: list[Round] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.rounds)

    def statuses(self) -> dict[int, int]:
        counted: dict[int, int] = {}
        for r in self.rounds:
            for status, count in r.statuses.items():
                counted[status] = counted.get(status, 0) + count
        return counted


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert kib is not None
    return int(kib.group(1)) / 1024


def load_round(
    wrk: str,
    port: int,
    script: Path,
    seconds: int,
    env: dict[str, str],
    connections: int,
    pid: int,
) -> Round:
    prefix = {"BENCH_PREFIX": f"soak-{time.time_ns()}-"}
    output = run_wrk(
        wrk, port, script, connections, seconds, env | prefix, "--timeout", "10s"
    )
    values = dict(
        re.findall(
            r"^(requests|socket_errors|p99_us|unannounced_503) (\d+)$",
            output,
            re.MULTILINE,
        )
    )
    statuses = {
        int(s): int(n)
        for s, n in re.findall(r"^status (\d+) (\d+)$", output, re.MULTILINE)
    }
    return Round(
        int(values["requests"]),
        int(values["p99_us"]) / 1000,
        statuses,
        int(values["unannounced_503"]),
        int(values["socket_errors"]),
        rss_mib(pid),
    )


def connections_of_the_service(database: str) -> int:
    completed = subprocess.run(
        [
            "psql",
            f"postgresql://postgres@127.0.0.1:5432/{database}",
            "-tAc",
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
            f"'{SERVICE_NAME}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(completed.stdout.strip())


def report(soak: Soak, connections_after: int) -> bool:
    print("\n| round | requests | p99 ms | statuses | RSS MiB |")
    print("|---|---|---|---|---|")
    print(f"| warm-up | | | | {soak.warm_rss_mib:.1f} |")
    for number, r in enumerate(soak.rounds, 1):
        shown = ", ".join(f"{s}: {n:,}" for s, n in sorted(r.statuses.items()))
        print(
            f"| {number} | {r.requests:,} | {r.p99_ms:.1f} | {shown} | "
            f"{r.rss_mib:.1f} |"
        )
    statuses = soak.statuses()
    server_errors = sum(n for s, n in statuses.items() if s >= 500 and s != 503)
    growth = soak.rounds[-1].rss_mib / soak.warm_rss_mib - 1
    checks = {
        "no 5xx other than 503": server_errors == 0,
        "every 503 says Retry-After": soak.total("unannounced_503") == 0,
        "no socket errors or timeouts": soak.total("socket_errors") == 0,
        f"RSS growth {growth:+.1%} after warm-up (< 10%)": growth < 0.10,
        f"{connections_after} connections afterwards (<= pool size {POOL_SIZE})": (
            connections_after <= POOL_SIZE
        ),
    }
    print(f"\n{soak.total('requests'):,} requests after warm-up; statuses {statuses}")
    for check, kept in checks.items():
        print(f"{'ok  ' if kept else 'FAIL'} {check}")
    return all(checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir")
    args = parser.parse_args()
    wrk = ensure_wrk()
    scratch = Path(tempfile.mkdtemp(prefix="soak-"))
    database = f"soak_{os.getpid()}"
    try:
        service = prepare_service(scratch, database, POOL_SIZE, MAX_OVERFLOW)
        script = scratch / "mixed.lua"
        script.write_text(MIXED)
        env = service.env | {"BENCH_IDS": str(service.ids_file)}
        port = free_port()
        server = serve(
            [str(service.bin_dir / "uvicorn"), "my_service.main:app"],
            env | {"LOG_LEVEL": "WARNING", "DATABASE_APPLICATION_NAME": SERVICE_NAME},
            service.project,
            port,
        )
        soak = Soak()
        try:
            warm = load_round(wrk, port, script, 10, env, args.connections, server.pid)
            soak.warm_rss_mib = warm.rss_mib
            print(
                f"  warm-up: {warm.requests:,} requests, RSS {warm.rss_mib:.1f} MiB",
                flush=True,
            )
            started = time.monotonic()
            while (
                soak.total("requests") < args.requests
                or time.monotonic() - started < args.seconds
            ):
                r = load_round(wrk, port, script, 20, env, args.connections, server.pid)
                soak.rounds.append(r)
                print(
                    f"  round {len(soak.rounds)}: {r.requests:,} requests, "
                    f"p99 {r.p99_ms:.1f} ms, RSS {r.rss_mib:.1f} MiB",
                    flush=True,
                )
            time.sleep(1)  # overflow connections close as they come back
            connections_after = connections_of_the_service(database)
        finally:
            server.terminate()
            server.wait(timeout=30)
        kept = report(soak, connections_after)
    finally:
        psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    raise SystemExit(0 if kept else 1)


if __name__ == "__main__":
    main()
