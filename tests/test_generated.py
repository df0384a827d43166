"""The default render beyond its sample's checks (tests/test_samples.py): the
Makefile's verbs, a plain pip install, and the newer Python targets.
"""

import itertools
import os
import re
import shutil
from pathlib import Path

import pytest

from .helpers import (
    FAULT_MODULES,
    REPORT_EVERY_TEST,
    check_suite,
    lint_and_type_check,
    render,
    run,
    run_rendered_suite,
    sync_into_shared_venv,
)

# One xdist worker for the module: its render is installed once, there.
pytestmark = [
    pytest.mark.generated,
    pytest.mark.sample("defaults"),
    pytest.mark.xdist_group("generated"),
]

# Newer targets cannot be installed on this machine's Python 3.11; their code is
# the same, and lint and type-check run with those versions as targets.
CHECKED_ONLY: dict[str, dict[str, object]] = {
    "python-3.12": {"python_version": "3.12", "package_name": "svc_py312"},
    "python-3.13": {"python_version": "3.13", "package_name": "svc_py313"},
    "python-3.14": {"python_version": "3.14", "package_name": "svc_py314"},
}


@pytest.fixture(scope="module")
def installed_defaults(
    tmp_path_factory: pytest.TempPathFactory, uv: str, shared_venv: Path
) -> tuple[Path, dict[str, str]]:
    project = render(tmp_path_factory.mktemp("defaults") / "service")
    return project, sync_into_shared_venv(project, uv, shared_venv)


def test_make_verbs_work_as_the_readme_says(
    installed_defaults: tuple[Path, dict[str, str]],
    postgres: tuple[str, int],
) -> None:
    project, env = installed_defaults
    # `make test` is the everyday tier; the fault tier and the coverage gate
    # ran in the defaults sample, a render of the same answers (test_samples.py).

    completed = run(
        ["make", "install", "lint", "typecheck", "test"],
        cwd=project,
        env=env | REPORT_EVERY_TEST,
    )

    check_suite(completed.stdout, project, not_run=FAULT_MODULES)


def test_make_bench_prints_every_ratio_and_leaves_no_database_behind(
    installed_defaults: tuple[Path, dict[str, str]],
    postgres: tuple[str, int],
) -> None:
    project, env = installed_defaults
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed (Debian: wrk); .ci/run installs it")

    completed = run(
        ["make", "bench", "ARGS=--duration 1 --runs 1 --connections 8"],
        cwd=project,
        env=env,
        timeout=600,
    )

    # | endpoint | this service | rate | ... | errors | ratio |
    service_row = (
        r"^\| (.+?) \| this service \| ([\d,]+)(?: rows/s)? \|"
        r".*\| (\d+) \| ([\d.]+) \|$"
    )
    rows = re.findall(service_row, completed.stdout, re.MULTILINE)
    endpoints = [endpoint for endpoint, *_ in rows]
    assert endpoints == [
        "GET user + orders",
        "GET page of 50",
        "POST create user",
        "PATCH rename user",
        "DELETE user",
        "bulk insert 10,000 users",
    ], completed.stdout
    # One table: every service row, the bulk insert's too, under one header.
    lines = completed.stdout.splitlines()
    header = lines.index(
        "| endpoint | implementation | rate | p50 ms | p99 ms | errors | ratio |"
    )
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines[header:]))
    assert sum("| this service |" in line for line in table) == len(rows), table
    for endpoint, rate, errors, ratio in rows:
        # Every request answered 2xx (each DELETE found its row, each POST's
        # email was new); the numbers themselves are not asserted.
        assert errors == "0", f"{endpoint}: {errors} errors\n{completed.stdout}"
        assert float(rate.replace(",", "")) > 0
        assert float(ratio) > 0
    leftover = run(
        ["psql", "-h", postgres[0], "-p", str(postgres[1]), "-U", "postgres", "-Atc",
         "SELECT datname FROM pg_database WHERE datname LIKE '%\\_bench\\_%'"],
        cwd=project,
    )  # fmt: skip
    assert leftover.stdout.strip() == ""


def test_plain_pip_install_with_the_dev_extra_works(
    installed_defaults: tuple[Path, dict[str, str]],
    tmp_path: Path,
    postgres: tuple[str, int],
) -> None:
    project, env = installed_defaults
    venv = tmp_path / "pip-venv"
    python = venv / "bin" / "python"

    run(["python3", "-m", "venv", venv], cwd=project)
    pip_install = [python, "-m", "pip", "install", "--quiet", "-e", ".[dev]"]
    run(pip_install, cwd=project, timeout=1200)
    pip_env = env | {"PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"}
    # The fault tests ran in the defaults sample; here the point is packaging.
    run_rendered_suite(project, pip_env)


@pytest.mark.parametrize("name", list(CHECKED_ONLY))
def test_newer_python_targets_lint_and_type_check(
    name: str,
    tmp_path: Path,
    installed_defaults: tuple[Path, dict[str, str]],
) -> None:
    _, env = installed_defaults
    project = render(tmp_path / name, **CHECKED_ONLY[name])

    lint_and_type_check(project, env)
