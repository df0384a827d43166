"""The `database=sqlite` answer: the zero-setup render, tried as a new user would.

No database server is involved: the service and its tests use SQLite files.
"""

import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import render, run, sync_into_shared_venv
from .test_generated import free_port, http, wait_until_ready

pytestmark = pytest.mark.generated


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory, uv: str, shared_venv: Path
) -> tuple[Path, dict[str, str]]:
    destination = tmp_path_factory.mktemp("sqlite") / "service"
    render(destination, database="sqlite", package_name="zero_setup")
    return destination, sync_into_shared_venv(destination, uv, shared_venv)


def test_lint_and_strict_types_pass(project: tuple[Path, dict[str, str]]) -> None:
    path, env = project

    run(["ruff", "check", "."], cwd=path, env=env)
    run(["ruff", "format", "--check", "."], cwd=path, env=env)
    run(["mypy"], cwd=path, env=env)


def test_rendered_suite_passes(project: tuple[Path, dict[str, str]]) -> None:
    path, env = project

    completed = run(
        ["pytest", "-q", "-p", "no:cacheprovider", "-rA"], cwd=path, env=env
    )

    assert " passed" in completed.stdout
    assert "skipped" not in completed.stdout
    assert "PASSED tests/test_sqlite.py::" in completed.stdout


def test_serve_creates_the_database_file_and_answers(
    project: tuple[Path, dict[str, str]],
) -> None:
    path, env = project
    database = path / "zero_setup.db"
    database.unlink(missing_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    # As the README's quick start: `serve` in the project, no DATABASE_URL set.
    server = subprocess.Popen(
        ["my-service", "serve", "--port", str(port)],
        cwd=path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_ready(f"{base}/health/ready", server, seconds=60)
        created = http("POST", f"{base}/api/v1/users",
                       {"email": "ann@example.com", "full_name": "Ann"})  # fmt: skip
        assert created[0] == 201
        assert isinstance(created[1], dict)
        fetched = http("GET", f"{base}/api/v1/users/{created[1]['id']}")
        assert fetched == (200, created[1] | {"orders": []})
        assert str(created[1]["created_at"]).endswith("Z")
        assert http("GET", f"{base}/openapi.json")[0] == 200
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)

    assert server.returncode == 0, output
    assert "Traceback" not in output
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
