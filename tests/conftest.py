"""Fixtures and hooks of the template's tests; the helpers are in helpers.py."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import (
    MARIADB,
    POSTGRES,
    SAMPLES,
    SAMPLES_FILE,
    copy_of_the_template,
    git,
    require_server,
)
from .pgbouncer import running_pgbouncer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--sample",
        help="only the tests of this sample of tests/samples.json (one leg of the "
        "CI matrix), or 'none' for the tests of no sample",
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    for item in items:
        if (marker := item.get_closest_marker("sample")) and marker.args[0] not in (
            SAMPLES
        ):
            raise pytest.UsageError(f"{item.nodeid}: no sample {marker.args[0]!r}")
    chosen = config.getoption("--sample")
    if chosen is None:
        return
    if chosen != "none" and chosen not in SAMPLES:
        raise pytest.UsageError(f"--sample {chosen}: not in {SAMPLES_FILE.name}")
    selected, deselected = [], []
    for item in items:
        marker = item.get_closest_marker("sample")
        (selected if (marker.args[0] if marker else "none") == chosen
         else deselected).append(item)  # fmt: skip
    config.hook.pytest_deselected(items=deselected)
    items[:] = selected


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's working tree committed to a scratch repository.

    Copier renders a dirty template through a throwaway commit whose hash (the
    answers file's _commit) changes at every render; a clean copy does not.
    """
    snapshot = copy_of_the_template(tmp_path_factory.mktemp("template") / "template")
    git(snapshot, "init", "-q")
    git(snapshot, "add", "-A")
    git(snapshot, "commit", "-q", "-m", "snapshot")
    return snapshot


@pytest.fixture(scope="session")
def postgres() -> tuple[str, int]:
    """The PostgreSQL server that rendered projects' tests use (.ci/run starts it)."""
    return require_server("PostgreSQL", POSTGRES)


@pytest.fixture(scope="session")
def mariadb() -> tuple[str, int]:
    """The MariaDB server (root, no password) for database=mysql; .ci/run starts it."""
    return require_server("MariaDB", MARIADB)


@pytest.fixture(scope="session")
def uv() -> str:
    found = shutil.which("uv")
    if found is None:
        pytest.fail("uv is not on PATH (it is one of the template's dev dependencies)")
    return found


@pytest.fixture(scope="session")
def shared_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One virtualenv for every rendered project: their dependencies are the same,
    so `uv sync` into it only swaps the project itself after the first install."""
    return tmp_path_factory.mktemp("shared") / "venv"


@pytest.fixture(scope="session")
def bouncer(postgres: tuple[str, int]) -> Iterator[int]:
    """A throwaway PgBouncer in transaction mode in front of the PostgreSQL."""
    with running_pgbouncer(upstream=postgres[1]) as port:
        yield port
