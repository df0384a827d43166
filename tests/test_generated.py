"""Rendered projects install, lint, type-check, pass their own tests, and serve.

Every project is installed with `uv sync` into one shared virtualenv: their
dependencies are the same, so only the project itself changes between them.
"""

import json
import os
from pathlib import Path

import pytest

from .conftest import (
    SAMPLES,
    render,
    run,
    run_rendered_suite,
    serve_and_create_a_user,
    sync_into_shared_venv,
)

pytestmark = pytest.mark.generated

INSTALLED: dict[str, dict[str, object]] = {
    name: SAMPLES[name]["answers"] for name in ("defaults", "custom")
}
# Newer targets cannot be installed on this machine's Python 3.11; their code is
# the same, and lint and type-check run with those versions as targets.
CHECKED_ONLY: dict[str, dict[str, object]] = {
    "python-3.12": {"python_version": "3.12", "package_name": "svc_py312"},
    "python-3.13": {"python_version": "3.13", "package_name": "svc_py313"},
    "python-3.14": {"python_version": "3.14", "package_name": "svc_py314"},
}


def package_of(answers: dict[str, object]) -> str:
    return str(answers.get("package_name", "my_service"))


def command_of(answers: dict[str, object]) -> str:
    return str(answers.get("project_name", "My Service")).lower().replace(" ", "-")


def install(
    name: str,
    answers: dict[str, object],
    tmp_path_factory: pytest.TempPathFactory,
    uv: str,
    shared_venv: Path,
) -> tuple[dict[str, object], Path, dict[str, str]]:
    """Render a project and install it as its README says (`uv sync`)."""
    project = render(tmp_path_factory.mktemp(name) / "service", **answers)
    env = sync_into_shared_venv(project, uv, shared_venv)
    return answers, project, env


@pytest.fixture(scope="session")
def installed_defaults(
    tmp_path_factory: pytest.TempPathFactory, uv: str, shared_venv: Path
) -> tuple[dict[str, object], Path, dict[str, str]]:
    return install("defaults", {}, tmp_path_factory, uv, shared_venv)


@pytest.fixture(
    scope="module",
    params=[pytest.param(name, marks=pytest.mark.sample(name)) for name in INSTALLED],
)
def installed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    uv: str,
    shared_venv: Path,
    installed_defaults: tuple[dict[str, object], Path, dict[str, str]],
) -> tuple[dict[str, object], Path, dict[str, str]]:
    if request.param == "defaults":
        return installed_defaults
    answers = INSTALLED[request.param]
    return install(request.param, answers, tmp_path_factory, uv, shared_venv)


def test_ruff_passes(installed: tuple[dict[str, object], Path, dict[str, str]]) -> None:
    _, project, env = installed

    run(["ruff", "check", "."], cwd=project, env=env)
    run(["ruff", "format", "--check", "."], cwd=project, env=env)


def test_mypy_strict_passes(
    installed: tuple[dict[str, object], Path, dict[str, str]],
) -> None:
    _, project, env = installed

    run(["mypy"], cwd=project, env=env)


def test_rendered_test_suite_passes(
    installed: tuple[dict[str, object], Path, dict[str, str]],
    postgres: tuple[str, int],
) -> None:
    _, project, env = installed

    run_rendered_suite(project, env)


def test_answers_reach_the_running_engine(
    installed: tuple[dict[str, object], Path, dict[str, str]],
) -> None:
    answers, project, env = installed
    script = f"""
import asyncio, json
from sqlalchemy import event
from {package_of(answers)}.db.engine import ping_if_idle
from {package_of(answers)}.main import create_app

async def main():
    app = create_app()
    async with app.router.lifespan_context(app):
        engine = app.state.database.engine
        pool = engine.pool
        print(json.dumps({{
            "pool_size": pool.size(),
            "max_overflow": pool._max_overflow,
            "pool_timeout": pool.timeout(),
            "pool_recycle": pool._recycle,
            "pool_pre_ping": event.contains(engine.sync_engine, "checkout",
                                            ping_if_idle),
            "echo_sql": bool(engine.echo),
            "driver": engine.dialect.driver,
        }}))

asyncio.run(main())
"""
    completed = run(["python", "-c", script], cwd=project, env=env)

    engine = json.loads(completed.stdout)
    assert engine == {
        "pool_size": answers.get("pool_size", 5),
        "max_overflow": answers.get("max_overflow", 10),
        "pool_timeout": answers.get("pool_timeout", 30.0),
        "pool_recycle": answers.get("pool_recycle", 3600),
        "pool_pre_ping": answers.get("pool_pre_ping", True),
        "echo_sql": answers.get("echo_sql", False),
        "driver": "asyncpg",
    }


def test_serve_migrates_and_answers(
    installed: tuple[dict[str, object], Path, dict[str, str]],
    postgres: tuple[str, int],
) -> None:
    answers, project, env = installed
    database = f"{package_of(answers)}_serve"
    host, db_port = postgres
    for sql in (f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}"):
        run(["psql", "-h", host, "-p", str(db_port), "-U", "postgres", "-c", sql],
            cwd=project)  # fmt: skip
    serve_env = env | {
        "DATABASE_URL": f"postgresql+asyncpg://postgres@{host}:{db_port}/{database}"
    }

    created = serve_and_create_a_user(command_of(answers), project, serve_env)

    assert str(created["created_at"]).endswith("Z")


def test_make_verbs_work_as_the_readme_says(
    installed_defaults: tuple[dict[str, object], Path, dict[str, str]],
    postgres: tuple[str, int],
) -> None:
    _, project, env = installed_defaults

    completed = run(
        ["make", "install", "lint", "typecheck", "test"], cwd=project, env=env
    )

    assert " passed" in completed.stdout


def test_plain_pip_install_with_the_dev_extra_works(
    installed_defaults: tuple[dict[str, object], Path, dict[str, str]],
    tmp_path: Path,
    postgres: tuple[str, int],
) -> None:
    _, project, env = installed_defaults
    venv = tmp_path / "pip-venv"
    python = venv / "bin" / "python"

    run(["python3", "-m", "venv", venv], cwd=project)
    pip_install = [python, "-m", "pip", "install", "--quiet", "-e", ".[dev]"]
    run(pip_install, cwd=project, timeout=1200)
    pip_env = env | {"PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"}
    # The fault tests ran in the other installs; here the point is packaging.
    command = ["pytest", "-q", "-p", "no:cacheprovider", "-m", "not faults"]
    completed = run(command, cwd=project, env=pip_env)

    assert " passed" in completed.stdout


@pytest.mark.parametrize("name", list(CHECKED_ONLY))
def test_newer_python_targets_lint_and_type_check(
    name: str,
    tmp_path: Path,
    installed_defaults: tuple[dict[str, object], Path, dict[str, str]],
) -> None:
    _, _, env = installed_defaults
    project = render(tmp_path / name, **CHECKED_ONLY[name])

    run(["ruff", "check", "."], cwd=project, env=env)
    run(["ruff", "format", "--check", "."], cwd=project, env=env)
    run(["mypy"], cwd=project, env=env)
