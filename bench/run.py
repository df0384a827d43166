"""Benchmark a rendered service against a raw-asyncpg ceiling, in one run.

    uv run python bench/run.py [--duration 10] [--runs 3] [--connections 32]

Renders the template with default answers, installs it, and runs the rendered
project's own benchmark (its `make bench`: bench/run.py there says what it
measures) against the PostgreSQL on 127.0.0.1:5432. Installs wrk from
Debian's packages if it is missing. Also the helpers bench/soak.py uses.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from copier import run_copy

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


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


def postgres_answers(
    database: str, pool_size: int = 10, max_overflow: int = 0
) -> dict[str, object]:
    """Default answers but a database on 127.0.0.1:5432 and the pool."""
    return {
        "database_url": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}",
        "pool_size": pool_size,
        "max_overflow": max_overflow,
    }


def render(project: Path, answers: dict[str, object]) -> dict[str, str]:
    """Render the template with default answers but `answers` into `project`
    and install it; the environment to run it with."""
    print(f"rendering and installing a sample service in {project} ...", flush=True)
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
    return env


def prepare_service(
    scratch: Path, database: str, pool_size: int, max_overflow: int, deletable: int = 0
) -> Service:
    """Render the template with default answers (but the pool), install it,
    and migrate and seed a scratch database on 127.0.0.1:5432 (with `deletable`
    more users, without orders, for DELETE requests)."""
    project = scratch / "service"
    env = render(project, postgres_answers(database, pool_size, max_overflow))
    service = Service(
        project, env, f"postgresql://postgres@127.0.0.1:5432/{database}",
        scratch / "user_ids.txt", scratch / "deletable_ids.txt",
    )  # fmt: skip
    psql(f"DROP DATABASE IF EXISTS {database}")
    psql(f"CREATE DATABASE {database}")
    sh([str(service.bin_dir / "my-service"), "migrate"], cwd=project, env=env)
    seed = project / "bench" / "seed.py"
    sh([str(service.python), str(seed), service.dsn, str(service.ids_file),
        str(service.deletable_ids_file), str(deletable)])  # fmt: skip
    return service


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3, help="runs per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--keep", action="store_true", help="keep the rendered service")
    args = parser.parse_args()
    ensure_wrk()
    scratch = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        # The rendered benchmark creates, and drops, a scratch database of its
        # own beside this one's name.
        project = scratch / "service"
        env = render(project, postgres_answers(f"bench_{os.getpid()}"))
        command = [
            str(project / ".venv/bin/python"), "bench/run.py",
            "--duration", str(args.duration), "--runs", str(args.runs),
            "--connections", str(args.connections),
        ]  # fmt: skip
        sys.exit(subprocess.run(command, cwd=project, env=env).returncode)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
