"""Benchmark a rendered service against a raw-asyncpg ceiling, in one run.

    uv run python bench/run.py [--duration 10] [--runs 3] [--connections 32]

Renders the template with default answers, installs it, migrates and seeds a
scratch database on 127.0.0.1:5432 (10,000 users, 50,000 orders), then serves
the rendered app and bench/ceiling.py one after the other with uvicorn pinned
to CPU 0, loads each with wrk pinned to CPU 1, and prints req/s, p50, p99 and
errors per endpoint (medians of the runs) with the ratio to the ceiling (the
median of per-run ratios), the reads' throughput with METRICS_ENABLED=false
against the default (what /metrics costs), plus
bulk-insert rows/s against asyncpg's COPY. Needs 2 cores; installs wrk from
Debian's packages if it is missing.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from copier import run_copy

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
# Both apps get the same number of connections. No overflow for the service: under
# steady load above pool_size, overflow connections are opened and closed per
# request, which measures reconnects rather than queries.
POOL_SIZE = 10
# Users each DELETE run may delete: the ceiling deletes about 4,000 a second
# here, so 10 s need 40,000; a run that used its slice up would get 404s,
# which wrk reports as errors.
DELETABLE_PER_RUN = 60_000

LUA_USER = """
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
request = function()
  return wrk.format("GET", "/api/v1/users/" .. ids[math.random(#ids)])
end
"""
LUA_PAGE = """
request = function() return wrk.format("GET", "/api/v1/users?limit=50") end
"""
LUA_CREATE = """
local counter = 0
local prefix = os.getenv("BENCH_PREFIX")
request = function()
  counter = counter + 1
  local body = '{"email": "' .. prefix .. counter .. '@bench.example",'
    .. ' "full_name": "B"}'
  local headers = {["Content-Type"] = "application/json"}
  return wrk.format("POST", "/api/v1/users", headers, body)
end
"""
LUA_RENAME = """
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"full_name": "Renamed ' .. counter .. '"}'
  local headers = {["Content-Type"] = "application/json"}
  return wrk.format("PATCH", "/api/v1/users/" .. ids[math.random(#ids)], headers, body)
end
"""
# Each run of each target deletes users of its own slice of the seeded ones, in
# order: every DELETE removes a row that exists.
LUA_DELETE = """
local ids = {}
local size = tonumber(os.getenv("BENCH_SLICE_SIZE"))
local first = tonumber(os.getenv("BENCH_SLICE")) * size
local line_number = 0
for line in io.lines(os.getenv("BENCH_DELETABLE_IDS")) do
  if line_number >= first and line_number < first + size then ids[#ids + 1] = line end
  line_number = line_number + 1
end
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("DELETE", "/api/v1/users/" .. ids[(counter - 1) % #ids + 1])
end
"""
ENDPOINTS = {
    "GET user + orders": LUA_USER,
    "GET page of 50": LUA_PAGE,
    "POST create user": LUA_CREATE,
    "PATCH rename user": LUA_RENAME,
    "DELETE user": LUA_DELETE,
}

READS = ("GET user + orders", "GET page of 50")
METRICS_OFF = "service, metrics off"
# The targets that run DELETE, each with a slice of deletable users per run;
# the metrics-off run only reads.
DELETING = ("ceiling (raw asyncpg)", "rendered service")


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def sh(command: list[str], **kwargs: object) -> str:
    completed = subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if completed.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}")
    return str(completed.stdout)


def ensure_wrk() -> str:
    if shutil.which("wrk") is None:
        print("installing wrk from Debian's packages ...", flush=True)
        sh(["apt-get", "update", "-qq"])
        sh(["apt-get", "install", "-y", "-qq", "wrk"])
    return str(shutil.which("wrk"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def psql(sql: str) -> None:
    sh(["psql", ADMIN_DSN, "-q", "-c", sql])


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(output: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.MULTILINE))
    p50, p99 = (re.match(r"([\d.]+)(\w+)", latency[k]) for k in ("50", "99"))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Result(rps, to_ms(*p50.groups()), to_ms(*p99.groups()), errors)  # type: ignore[union-attr]


def serve(
    command: list[str], env: dict[str, str], cwd: Path, port: int
) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            "taskset",
            "-c",
            "0",
            *command,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/api/v1/users?limit=1", timeout=1
            )
            return process
        except OSError:
            if process.poll() is not None:
                sys.exit(f"server exited:\n{process.communicate()[0]}")
            time.sleep(0.2)
    process.kill()
    sys.exit("server did not start")


def run_wrk(
    wrk: str, port: int, script: Path, connections: int, seconds: int,
    env: dict[str, str], *options: str,
) -> str:  # fmt: skip
    """wrk's output for one run of `script`: one thread, pinned to CPU 1."""
    return sh(
        ["taskset", "-c", "1", wrk, "-t1", f"-c{connections}", f"-d{seconds}s",
         *options, "-s", str(script), f"http://127.0.0.1:{port}"],
        env=env,
    )  # fmt: skip


def load(
    wrk: str, port: int, lua: Path, args: argparse.Namespace, env: dict[str, str]
) -> Result:
    output = run_wrk(wrk, port, lua, args.connections, args.duration, env, "--latency")
    return parse_wrk(output)


@dataclass
class Service:
    """A rendered, installed, migrated and seeded sample service."""

    project: Path
    env: dict[str, str]
    dsn: str
    ids_file: Path
    deletable_ids_file: Path

    @property
    def bin_dir(self) -> Path:
        return self.project / ".venv/bin"

    @property
    def python(self) -> Path:
        return self.bin_dir / "python"


def prepare_service(
    scratch: Path, database: str, pool_size: int, max_overflow: int, deletable: int = 0
) -> Service:
    """Render the template with default answers (but the pool), install it,
    and migrate and seed a scratch database on 127.0.0.1:5432 (with `deletable`
    more users, without orders, for DELETE requests)."""
    print(f"rendering and installing a sample service in {scratch} ...", flush=True)
    project = scratch / "service"
    answers = {
        "database_url": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}",
        "pool_size": pool_size,
        "max_overflow": max_overflow,
    }
    run_copy(
        str(ROOT),
        str(project),
        data=answers,
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    env = os.environ | {"UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    sh(["uv", "sync", "--quiet", "--python", "python3"], cwd=project, env=env)
    service = Service(
        project, env, f"postgresql://postgres@127.0.0.1:5432/{database}",
        scratch / "user_ids.txt", scratch / "deletable_ids.txt",
    )  # fmt: skip
    psql(f"DROP DATABASE IF EXISTS {database}")
    psql(f"CREATE DATABASE {database}")
    sh([str(service.bin_dir / "my-service"), "migrate"], cwd=project, env=env)
    seed = BENCH / "seed.py"
    sh([str(service.python), str(seed), service.dsn, str(service.ids_file),
        str(service.deletable_ids_file), str(deletable)])  # fmt: skip
    return service


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per endpoint (median)"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch directory"
    )
    args = parser.parse_args()
    wrk = ensure_wrk()
    scratch = Path(tempfile.mkdtemp(prefix="bench-"))
    database = f"bench_{os.getpid()}"
    try:
        # Enough users that no DELETE run runs out of its slice (wrk's rate
        # times its seconds, for the faster of the two).
        deletable = args.runs * len(DELETING) * DELETABLE_PER_RUN
        service = prepare_service(
            scratch, database, POOL_SIZE, max_overflow=0, deletable=deletable
        )
        project, env, dsn = service.project, service.env, service.dsn
        ids_file, python, bin_dir = service.ids_file, service.python, service.bin_dir
        scripts = {}
        for name, lua in ENDPOINTS.items():
            scripts[name] = scratch / (re.sub(r"\W+", "_", name) + ".lua")
            scripts[name].write_text(lua)

        results: dict[tuple[str, str], list[Result]] = {}
        targets = {
            "ceiling (raw asyncpg)": (
                ["%s" % (bin_dir / "uvicorn"), "ceiling:app"],
                BENCH,
                env | {"CEILING_DSN": dsn, "CEILING_POOL": str(POOL_SIZE)},
            ),
            # The price of /metrics, measured on the reads (the cheapest
            # requests, where a fixed cost per request weighs most), just
            # before the service's own reads: the machine's speed drifts.
            METRICS_OFF: (
                ["%s" % (bin_dir / "uvicorn"), "my_service.main:app"],
                project,
                env | {"LOG_LEVEL": "WARNING", "METRICS_ENABLED": "false"},
            ),
            "rendered service": (
                ["%s" % (bin_dir / "uvicorn"), "my_service.main:app"],
                project,
                env | {"LOG_LEVEL": "WARNING"},
            ),
        }
        slice_of = {target: DELETING.index(target) if target in DELETING else -1
                    for target in targets}  # fmt: skip
        # Interleaved (ceiling, service, ceiling, ...): on a shared machine the
        # speed drifts over minutes, and a ratio is only fair within one window.
        for run in range(args.runs):
            for target, (command, cwd, target_env) in targets.items():
                port = free_port()
                server = serve(command, target_env, cwd, port)
                try:
                    for name, lua in scripts.items():
                        if target == METRICS_OFF and name not in READS:
                            continue
                        wrk_env = env | {
                            "BENCH_IDS": str(ids_file),
                            "BENCH_PREFIX": f"{target[:4]}{run}-{time.time_ns()}-",
                            "BENCH_DELETABLE_IDS": str(service.deletable_ids_file),
                            "BENCH_SLICE": str(run * len(DELETING) + slice_of[target]),
                            "BENCH_SLICE_SIZE": str(DELETABLE_PER_RUN),
                        }
                        result = load(wrk, port, lua, args, wrk_env)
                        results.setdefault((target, name), []).append(result)
                        print(
                            f"  run {run + 1} {target:22} {name:18} "
                            f"{result.requests_per_second:8.0f} req/s",
                            flush=True,
                        )
                finally:
                    server.terminate()
                    server.wait(timeout=30)

        port = free_port()
        server = serve(
            targets["rendered service"][0],
            targets["rendered service"][2],
            project,
            port,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            bulk_command = [
                str(python),
                str(BENCH / "bulk.py"),
                dsn,
                url,
                str(args.runs),
            ]
            bulk = json.loads(sh(bulk_command))
        finally:
            server.terminate()
            server.wait(timeout=30)
        report(results, bulk, args)
    finally:
        psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def report(
    results: dict[tuple[str, str], list[Result]],
    bulk: dict[str, list[float]],
    args: argparse.Namespace,
) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    print(
        f"\n{cpu}, {os.cpu_count()} cores; server on CPU 0, wrk on CPU 1; "
        f"{args.connections} connections, {args.duration}s x {args.runs} runs, "
        "medians; ratio: median of per-run ratios\n"
    )
    print("| endpoint | implementation | req/s | p50 ms | p99 ms | errors | ratio |")
    print("|---|---|---|---|---|---|---|")
    for name in ENDPOINTS:
        ceiling_runs = results[("ceiling (raw asyncpg)", name)]
        for target in ("ceiling (raw asyncpg)", "rendered service"):
            runs = results[(target, name)]
            rps = statistics.median(r.requests_per_second for r in runs)
            print(
                f"| {name} | {target} | {rps:,.0f} | "
                f"{statistics.median(r.p50_ms for r in runs):.2f} | "
                f"{statistics.median(r.p99_ms for r in runs):.2f} | "
                f"{sum(r.errors for r in runs)} | "
                f"{median_ratio(runs, ceiling_runs):.2f} |"
            )
    print(
        "\n| endpoint | metrics off req/s | metrics on req/s | on / off |"
        "\n|---|---|---|---|"
    )
    for name in READS:
        off, on = results[(METRICS_OFF, name)], results[("rendered service", name)]
        print(
            f"| {name} | {statistics.median(r.requests_per_second for r in off):,.0f}"
            f" | {statistics.median(r.requests_per_second for r in on):,.0f}"
            f" | {median_ratio(on, off):.2f} |"
        )
    print()
    copy, service = statistics.median(bulk["copy"]), statistics.median(bulk["service"])
    bulk_ratio = statistics.median(
        s / c for s, c in zip(bulk["service"], bulk["copy"], strict=True)
    )
    bulk_row = "| bulk insert 10,000 users | {} | {:,.0f} rows/s | | | 0 | {:.2f} |"
    print(bulk_row.format("asyncpg COPY", copy, 1.0))
    print(bulk_row.format("rendered service", service, bulk_ratio))


def median_ratio(runs: list[Result], ceiling_runs: list[Result]) -> float:
    """The median of per-run ratios: each run loads the ceiling, then the service,
    back to back, so a ratio compares two measurements of the same minute (this
    machine's speed drifts by tens of percent over a few minutes)."""
    return statistics.median(
        run.requests_per_second / ceiling.requests_per_second
        for run, ceiling in zip(runs, ceiling_runs, strict=True)
    )


if __name__ == "__main__":
    main()
