"""The `pgbouncer` answer: the rendered service, tested through a real PgBouncer.

PgBouncer (transaction pooling) runs in front of the PostgreSQL on 5432; the
rendered project's whole suite, including its 32-client load test, runs with
TEST_DATABASE_URL pointing at PgBouncer. Alone, and with `read_replica` too
(whose suite also makes its own primary and standby).
"""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import lint_and_type_check, render_installed, run_rendered_suite
from .pgbouncer import running_pgbouncer

pytestmark = pytest.mark.generated


@pytest.fixture(scope="module")
def bouncer(postgres: tuple[str, int]) -> Iterator[int]:
    with running_pgbouncer(upstream=postgres[1]) as port:
        yield port


@pytest.fixture(
    scope="module",
    params=[pytest.param(name, marks=pytest.mark.sample(name))
            for name in ("pgbouncer", "pgbouncer-replica")],
)  # fmt: skip
def project(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    uv: str,
    shared_venv: Path,
) -> tuple[Path, dict[str, str]]:
    return render_installed(tmp_path_factory, uv, shared_venv, request.param)


def test_lint_and_strict_types_pass(project: tuple[Path, dict[str, str]]) -> None:
    lint_and_type_check(*project)


def test_rendered_suite_passes_through_pgbouncer(
    project: tuple[Path, dict[str, str]], bouncer: int
) -> None:
    path, env = project
    replica = (path / "tests" / "test_replica.py").exists()
    (package,) = (path / "src").iterdir()
    test_database = f"{package.name}_test"
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{bouncer}/{test_database}"
    before = transactions_through(bouncer, test_database)

    stdout = run_rendered_suite(path, env | {"TEST_DATABASE_URL": url})

    assert "PASSED tests/test_pgbouncer.py::" in stdout
    if replica:
        assert "PASSED tests/test_replica.py::test_reads_come_from_the_replica" in (
            stdout
        )
    # The traffic went through PgBouncer: its own count of transactions.
    assert transactions_through(bouncer, test_database) - before > 3 * 32 * 32


def transactions_through(port: int, database: str) -> int:
    stats = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-At",
            "-F",
            ",",
            "-c",
            "SHOW STATS",
            "pgbouncer",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in stats.splitlines():
        name, total_xact_count, *_ = line.split(",")
        if name == database:
            return int(total_xact_count)
    return 0
