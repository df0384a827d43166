"""The rendered project's tooling files, checked statically.

Docker cannot run on the CI machine, so the Dockerfile and compose file are
linted and parsed here, not built; the workflow is validated against the GitHub
Actions schema, not run.
"""

import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from .helpers import render, run


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("tooling") / "service")


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found is not None, f"{name} is one of the template's dev dependencies"
    return found


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def test_workflow_is_a_valid_github_actions_workflow(project: Path) -> None:
    workflow = project / ".github" / "workflows" / "ci.yml"

    run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
         workflow], cwd=project)  # fmt: skip


def test_workflow_tests_against_postgres_with_every_check(project: Path) -> None:
    job = load_yaml(project / ".github" / "workflows" / "ci.yml")["jobs"]["test"]
    commands = "\n".join(step.get("run", "") for step in job["steps"])

    assert job["services"]["postgres"]["image"].startswith("postgres:")
    for command in (
        "uv sync --locked",
        "uv run ruff check .",
        "uv run ruff format --check .",
        "uv run mypy",
        "uv run pytest",
        "uv run alembic check",
    ):
        assert command in commands


def test_dockerfile_passes_hadolint(project: Path) -> None:
    run([tool("hadolint"), "--no-color", "Dockerfile"], cwd=project)


def test_dockerfile_is_multi_stage_slim_non_root_with_a_healthcheck(
    project: Path,
) -> None:
    lines = (project / "Dockerfile").read_text().splitlines()
    froms = [line for line in lines if line.startswith("FROM ")]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    start = next(i for i, line in enumerate(lines) if line.startswith("HEALTHCHECK"))
    healthcheck = " ".join(lines[start : start + 2])

    assert len(froms) == 2
    assert all("-slim" in line for line in froms)
    assert "FROM python:3.11-slim AS runtime" in froms
    assert users == ["10001:10001"]
    assert "/health" in healthcheck
    assert any("uv sync --locked" in line for line in lines)


def test_compose_runs_postgres_with_a_healthcheck_and_the_migrating_app(
    project: Path,
) -> None:
    compose = load_yaml(project / "compose.yaml")
    db, app = compose["services"]["db"], compose["services"]["app"]

    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    # serve without --no-migrate: migrations first, then the server.
    assert app["command"][:2] == ["my-service", "serve"]
    assert "--no-migrate" not in app["command"]
    assert app["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_the_observability_profile_scrapes_the_app_and_shows_its_dashboard(
    project: Path,
) -> None:
    services = load_yaml(project / "compose.yaml")["services"]
    scrape = load_yaml(project / "deploy/prometheus/prometheus.yml")

    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["observability"]
        for volume in services[name]["volumes"]:
            assert (project / volume.split(":")[0]).exists(), volume
    (job,) = scrape["scrape_configs"]
    assert job["static_configs"][0]["targets"] == ["app:8000"]
    assert job["metrics_path"] == "/metrics"


def test_pre_commit_runs_ruff_and_mypy(project: Path) -> None:
    hooks = load_yaml(project / ".pre-commit-config.yaml")["repos"][0]["hooks"]

    assert {hook["id"] for hook in hooks} == {
        "check-merge-conflict", "ruff-format", "ruff-check", "mypy"
    }  # fmt: skip


def test_pre_commit_refuses_copiers_conflict_markers(
    project: Path, tmp_path: Path
) -> None:
    # The hook as configured (its package from PyPI, its arguments), run on the
    # markers `copier update` writes: outside a git merge, hence --assume-in-merge.
    hooks = load_yaml(project / ".pre-commit-config.yaml")["repos"][0]["hooks"]
    hook = next(hook for hook in hooks if hook["id"] == "check-merge-conflict")
    (requirement,) = hook["additional_dependencies"]
    conflicted = tmp_path / "config.py"
    conflicted.write_text("<<<<<<< before updating\na = 1\n=======\na = 2\n"
                          ">>>>>>> after updating\n")  # fmt: skip
    clean = tmp_path / "clean.py"
    clean.write_text("a = 1\n")
    hook_command = [tool("uvx"), "--from", requirement, *hook["entry"].split()]

    refused = subprocess.run([*hook_command, conflicted, clean],
                             capture_output=True, text=True, check=False)  # fmt: skip
    accepted = subprocess.run([*hook_command, clean],
                              capture_output=True, text=True, check=False)  # fmt: skip

    assert refused.returncode == 1, refused.stderr
    assert f"{conflicted}:1: Merge conflict string" in refused.stdout
    assert "clean.py" not in refused.stdout
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_makefile_has_the_everyday_verbs(project: Path) -> None:
    listed = run(["make", "help"], cwd=project).stdout

    for verb in ("install", "dev", "test", "lint", "format", "typecheck",
                 "migrate", "revision", "db-up"):  # fmt: skip
        assert f"make {verb} " in listed
    for line in listed.splitlines():
        assert len(line) <= 80, line


def test_make_revision_requires_a_message(project: Path) -> None:
    completed = subprocess.run(
        ["make", "revision"], cwd=project, capture_output=True, text=True, check=False
    )

    assert completed.returncode != 0
    assert 'make revision m="what changed"' in completed.stdout


def test_dev_extra_and_dev_group_agree(project: Path) -> None:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())

    assert (
        pyproject["project"]["optional-dependencies"]["dev"]
        == (pyproject["dependency-groups"]["dev"])
    )


def test_gitignore_and_editorconfig(project: Path) -> None:
    ignored = (project / ".gitignore").read_text().splitlines()

    assert {".env", ".venv/", "__pycache__/", ".mypy_cache/"} <= set(ignored)
    assert (project / ".editorconfig").read_text().startswith("root = true")


def test_sqlite_tooling_needs_no_database_server(tmp_path: Path) -> None:
    project = render(tmp_path / "service", database="sqlite")
    compose = load_yaml(project / "compose.yaml")
    job = load_yaml(project / ".github" / "workflows" / "ci.yml")["jobs"]["test"]

    # Prometheus and Grafana only start with `--profile observability`.
    always = {name for name, service in compose["services"].items()
              if "profiles" not in service}  # fmt: skip
    assert always == {"app"}
    assert compose["services"]["app"]["volumes"] == ["app-data:/data"]
    assert "services" not in job
    assert "db-up" not in (project / "Makefile").read_text()
    run([tool("hadolint"), "--no-color", "Dockerfile"], cwd=project)
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
         ".github/workflows/ci.yml"], cwd=project)  # fmt: skip


def test_mysql_tooling_runs_mariadb(tmp_path: Path) -> None:
    project = render(tmp_path / "service", database="mysql")
    compose = load_yaml(project / "compose.yaml")
    job = load_yaml(project / ".github" / "workflows" / "ci.yml")["jobs"]["test"]

    assert compose["services"]["db"]["image"].startswith("mariadb:")
    app_url = compose["services"]["app"]["environment"]["DATABASE_URL"]
    assert app_url.startswith("mysql+asyncmy://")
    assert job["services"]["mariadb"]["image"].startswith("mariadb:")
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
         ".github/workflows/ci.yml"], cwd=project)  # fmt: skip
