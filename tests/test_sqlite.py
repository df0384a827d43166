"""The `database=sqlite` answer: the zero-setup render, tried as a new user would.

No database server is involved: the service and its tests use SQLite files.
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
    serve_and_create_a_user,
)

pytestmark = [pytest.mark.generated, pytest.mark.sample("sqlite")]


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory, uv: str, shared_venv: Path
) -> tuple[Path, dict[str, str]]:
    return render_installed(
        tmp_path_factory,
        uv,
        shared_venv,
        "sqlite",
    )


def test_lint_and_strict_types_pass(project: tuple[Path, dict[str, str]]) -> None:
    lint_and_type_check(*project)


def test_rendered_suite_passes(project: tuple[Path, dict[str, str]]) -> None:
    path, env = project

    stdout = run_rendered_suite(path, env)

    assert "PASSED tests/test_sqlite.py::" in stdout


def test_serve_creates_the_database_file_and_answers(
    project: tuple[Path, dict[str, str]],
) -> None:
    path, env = project
    database = path / "zero_setup.db"
    database.unlink(missing_ok=True)
    # As the README's quick start: `serve` in the project, no DATABASE_URL set.
    created = serve_and_create_a_user("my-service", path, env)

    assert str(created["created_at"]).endswith("Z")
    assert database.exists()


def test_tooling_needs_no_database_server(
    project: tuple[Path, dict[str, str]],
) -> None:
    path, _ = project
    compose = yaml.safe_load((path / "compose.yaml").read_text())
    job = yaml.safe_load((path / ".github/workflows/ci.yml").read_text())["jobs"]

    assert set(compose["services"]) == {"app"}
    assert compose["services"]["app"]["volumes"] == ["app-data:/data"]
    assert "services" not in job["test"]
    assert "db-up" not in (path / "Makefile").read_text()
    hadolint = shutil.which("hadolint")
    assert hadolint is not None
    run([hadolint, "--no-color", "Dockerfile"], cwd=path)
    checker = shutil.which("check-jsonschema")
    assert checker is not None
    run([checker, "--builtin-schema", "vendor.github-workflows",
         ".github/workflows/ci.yml"], cwd=path)  # fmt: skip
