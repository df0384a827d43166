"""Command line: `<command> serve` applies migrations, then serves the API."""

import argparse
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from .config import ConfigurationError, get_settings
from .logs import configure_logging
from .metrics import MULTIPROCESS_DIRECTORY


def migrate(alembic_ini: Path) -> None:
    if not alembic_ini.is_file():
        raise SystemExit(
            f"{alembic_ini} not found: run this from the project directory"
        )
    url = get_settings().database_url
    if (directory := missing_sqlite_directory(url)) is not None:
        raise SystemExit(
            f"migrations failed on {url}: the directory {directory} does not exist"
        )
    try:
        command.upgrade(Config(str(alembic_ini)), "head")
    except (DBAPIError, OSError) as exc:
        # "database does not exist" or "connection refused" deserve one clear line,
        # not a driver traceback. str(URL) masks the password.
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        raise SystemExit(f"migrations failed on {url}: {reason}") from None


def missing_sqlite_directory(url: URL) -> Path | None:
    """The directory a SQLite database file would be in, if it does not exist.

    sqlite3 says only "unable to open database file"; and aiosqlite (0.22),
    failing to connect, stops its worker thread without waiting for it, so the
    thread may report to an event loop that asyncio.run has closed.
    """
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    directory = Path(url.database).parent
    return None if directory.is_dir() else directory


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=__package__)
    parser.add_argument("--alembic-ini", type=Path, default=Path("alembic.ini"))
    commands = parser.add_subparsers(dest="command", required=True)
    migrate_only = commands.add_parser(
        "migrate", help="apply all migrations (alembic upgrade head)"
    )
    migrate_only.set_defaults(migrations=True, serving=False)
    serve = commands.add_parser("serve", help="apply migrations, then serve the API")
    serve.set_defaults(migrations=True, serving=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, help="default: PORT, else 8000")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--reload", action="store_true", help="restart on code changes (development)"
    )
    serve.add_argument(
        "--no-migrate",
        dest="migrations",
        action="store_false",
        help="skip migrations",
    )
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ConfigurationError as exc:
        raise SystemExit(str(exc)) from None
    configure_logging(settings)

    if args.migrations:
        migrate(args.alembic_ini)
    if args.serving:
        with metrics_directory_for(args.workers):
            uvicorn.run(
                f"{__package__}.main:app",
                host=args.host,
                port=args.port or settings.port,
                workers=args.workers,
                reload=args.reload,
                # Our middleware logs each request with its id; uvicorn's loggers
                # propagate to the handler configure_logging installed.
                access_log=False,
                log_config=None,
            )


@contextmanager
def metrics_directory_for(workers: int) -> Iterator[None]:
    """With several workers, a fresh directory where each writes its metrics,
    so that a scrape of any worker reports them all (metrics.py).

    A directory you set in PROMETHEUS_MULTIPROC_DIR yourself is used as is:
    empty it before each start, as prometheus-client requires.
    """
    if workers == 1 or MULTIPROCESS_DIRECTORY in os.environ:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="metrics-") as directory:
        os.environ[MULTIPROCESS_DIRECTORY] = directory  # the workers inherit it
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_DIRECTORY]


if __name__ == "__main__":
    main()
