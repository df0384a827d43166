"""The `read_replica` answer: rendered, linted, type-checked, and its suite passed.

The rendered suite makes its own primary and streaming standby (initdb +
pg_basebackup on free ports) to check where reads go; the rest of it runs
against the PostgreSQL on 5432 as for the defaults.
"""

from pathlib import Path

import pytest

from .conftest import lint_and_type_check, render_installed, run_rendered_suite

pytestmark = [pytest.mark.generated, pytest.mark.sample("replica")]


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory, uv: str, shared_venv: Path
) -> tuple[Path, dict[str, str]]:
    return render_installed(
        tmp_path_factory,
        uv,
        shared_venv,
        "replica",
    )


def test_lint_and_strict_types_pass(project: tuple[Path, dict[str, str]]) -> None:
    lint_and_type_check(*project)


def test_rendered_suite_passes_with_a_real_standby(
    project: tuple[Path, dict[str, str]], postgres: tuple[str, int]
) -> None:
    path, env = project

    stdout = run_rendered_suite(path, env)

    for test in (
        "test_reads_come_from_the_replica_and_see_committed_writes",
        "test_reads_fall_back_to_the_primary_while_the_replica_is_down",
        "test_reads_go_to_the_primary_while_the_replica_lags",
    ):
        assert f"PASSED tests/test_replica.py::{test}" in stdout
