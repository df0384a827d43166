"""The `database=mysql` answer: rendered, checked, and tested against MariaDB.

The rendered suite runs against the MariaDB server on 127.0.0.1:3306 (root,
no password); .ci/run starts it when it is not running.
"""

import shutil
from pathlib import Path

import pytest
import yaml

from .conftest import (
    lint_and_type_check,
    render_installed,
    run,
    run_rendered_suite,
)

pytestmark = [pytest.mark.generated, pytest.mark.sample("mysql")]


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory, uv: str, shared_venv: Path
) -> tuple[Path, dict[str, str]]:
    return render_installed(
        tmp_path_factory,
        uv,
        shared_venv,
        "mysql",
    )


def test_lint_and_strict_types_pass(project: tuple[Path, dict[str, str]]) -> None:
    lint_and_type_check(*project)


def test_rendered_suite_passes_against_mariadb(
    project: tuple[Path, dict[str, str]], mariadb: tuple[str, int]
) -> None:
    path, env = project
    host, port = mariadb
    url = f"mysql+asyncmy://root@{host}:{port}/on_mariadb_test"

    stdout = run_rendered_suite(path, env | {"TEST_DATABASE_URL": url})

    assert "PASSED tests/test_mariadb.py::" in stdout


def test_tooling_runs_mariadb(project: tuple[Path, dict[str, str]]) -> None:
    path, _ = project
    compose = yaml.safe_load((path / "compose.yaml").read_text())
    job = yaml.safe_load((path / ".github/workflows/ci.yml").read_text())["jobs"]

    assert compose["services"]["db"]["image"].startswith("mariadb:")
    assert compose["services"]["app"]["environment"]["DATABASE_URL"].startswith(
        "mysql+asyncmy://"
    )
    assert job["test"]["services"]["mariadb"]["image"].startswith("mariadb:")
    checker = shutil.which("check-jsonschema")
    assert checker is not None
    run([checker, "--builtin-schema", "vendor.github-workflows",
         ".github/workflows/ci.yml"], cwd=path)  # fmt: skip
