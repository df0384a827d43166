"""A throwaway PgBouncer in transaction pooling mode, in front of 127.0.0.1:5432."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .helpers import free_port

CONFIG = """\
[databases]
* = host=127.0.0.1 port={upstream}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir = {directory}
pidfile = {directory}/pgbouncer.pid
logfile = {directory}/pgbouncer.log
auth_type = trust
auth_file = {directory}/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
"""


def find_pgbouncer() -> str:
    """The pgbouncer binary, installed from Debian's packages if it is missing."""
    found = shutil.which("pgbouncer")
    if found is None:
        apt = {"env": os.environ | {"DEBIAN_FRONTEND": "noninteractive"}}
        subprocess.run(["apt-get", "update", "-qq"], check=True, **apt)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "pgbouncer"], check=True, **apt
        )
        found = shutil.which("pgbouncer")
    if found is None:
        raise RuntimeError("pgbouncer is not installed and could not be installed")
    return found


def as_postgres(command: list[str]) -> list[str]:
    # PgBouncer refuses to run as root, and CI runs as root.
    return (
        ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command
    )


@contextmanager
def running_pgbouncer(upstream: int = 5432) -> Iterator[int]:
    """Start PgBouncer on a free port, yield the port, stop it."""
    binary = find_pgbouncer()
    directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    port = free_port()
    (directory / "userlist.txt").write_text('"postgres" ""\n')
    config = directory / "pgbouncer.ini"
    config.write_text(CONFIG.format(upstream=upstream, port=port, directory=directory))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        for path in directory.iterdir():
            shutil.chown(path, "postgres", "postgres")
    subprocess.run(as_postgres([binary, "-d", str(config)]), check=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    log = directory / "pgbouncer.log"
                    raise RuntimeError(
                        f"pgbouncer did not start:\n{log.read_text()}"
                    ) from None
                time.sleep(0.1)
        yield port
    finally:
        pid = (directory / "pgbouncer.pid").read_text().strip()
        subprocess.run(["kill", pid], check=False)
        shutil.rmtree(directory, ignore_errors=True)
