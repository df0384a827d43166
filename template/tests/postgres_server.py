"""A throwaway PostgreSQL server for tests that stop and restart the database.

Fault tests must never touch the shared server: this starts a private cluster
(initdb + pg_ctl, as pytest-postgresql does) on a free port in a temporary
directory, with fsync off, and removes it afterwards.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL

# Debian installs the server binaries outside PATH.
SEARCH_PATH = [
    os.environ.get("PATH", ""),
    *map(str, Path("/usr/lib/postgresql").glob("*/bin")),
]


def find_binary(name: str) -> str | None:
    return shutil.which(name, path=os.pathsep.join(SEARCH_PATH))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayPostgres:
    def __init__(self) -> None:
        # Directly under the system temp dir: pytest's tmp_path is private to
        # root, and the server runs as the postgres user when we are root.
        self.directory = Path(tempfile.mkdtemp(prefix="throwaway-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise FileNotFoundError("initdb/pg_ctl not found (PostgreSQL server)")
        self.initdb, self.pg_ctl = initdb, pg_ctl
        # initdb and pg_ctl refuse to run as root: run them as the postgres user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> URL:
        return URL.create(
            "postgresql+asyncpg",
            username="postgres",
            host="127.0.0.1",
            port=self.port,
            database="postgres",
        )

    def _run(self, *command: str) -> None:
        completed = subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {completed.stderr.strip()}")

    def create(self) -> None:
        if self.as_user:
            shutil.chown(self.directory, user="postgres")
        self._run(self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "--no-instructions")  # fmt: skip
        self.start()

    def create_replica(self) -> "ThrowawayPostgres":
        """A streaming standby of this server (pg_basebackup -R), started."""
        basebackup = find_binary("pg_basebackup")
        if basebackup is None:
            raise FileNotFoundError("pg_basebackup not found (PostgreSQL server)")
        replica = ThrowawayPostgres()
        if replica.as_user:
            shutil.chown(replica.directory, user="postgres")
        replica._run(basebackup, "-h", "127.0.0.1", "-p", str(self.port),
                     "-U", "postgres", "-D", str(replica.data), "-R",
                     "-X", "stream", "--no-sync")  # fmt: skip
        replica.start()
        return replica

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self._run(self.pg_ctl, "-D", str(self.data), "-o", options, "-w",
                  "-l", str(self.directory / "server.log"), "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
