"""Shared helpers and fixtures: rendering the template, running rendered projects."""

import os
import shutil
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from copier import run_copy

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
POSTGRES = ("127.0.0.1", 5432)


def render(destination: Path, template: Path = TEMPLATE_ROOT, **answers: Any) -> Path:
    """Render the template's working tree (committed or not) with these answers."""
    run_copy(
        str(template),
        str(destination),
        data=answers,
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    return destination


def clean_environment(**extra: str) -> dict[str, str]:
    """The environment minus variables that would override a project's answers."""
    prefixes = ("DATABASE_", "TEST_DATABASE_", "HEALTH_", "VIRTUAL_ENV")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return environment | extra


def run(
    command: list[str | Path],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run a command; if it fails, fail the test and show its output."""
    completed = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=dict(env) if env is not None else clean_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, command))} exited {completed.returncode} in {cwd}\n"
            f"--- stdout\n{completed.stdout[-8000:]}\n"
            f"--- stderr\n{completed.stderr[-8000:]}"
        )
    return completed


def sync_into_shared_venv(project: Path, uv: str, shared_venv: Path) -> dict[str, str]:
    """`uv sync` a rendered project into the shared venv; the environment to run
    its tools with (the venv's bin first on PATH, no answer-overriding vars)."""
    env = clean_environment(
        UV_PROJECT_ENVIRONMENT=str(shared_venv),
        UV_PYTHON_DOWNLOADS="never",
        PATH=f"{shared_venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
    )
    run([uv, "sync", "--python", "python3"], cwd=project, env=env)
    return env


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's working tree committed to a scratch repository.

    Copier renders a dirty template through a throwaway commit whose hash (the
    answers file's _commit) changes at every render; a clean copy does not.
    """
    snapshot = tmp_path_factory.mktemp("template") / "template"
    shutil.copytree(
        TEMPLATE_ROOT,
        snapshot,
        ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*_cache"),
    )
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    run(["git", "init", "-q"], cwd=snapshot)
    run(["git", "add", "-A"], cwd=snapshot)
    run([*git, "commit", "-q", "-m", "snapshot"], cwd=snapshot)
    return snapshot


@pytest.fixture(scope="session")
def postgres() -> tuple[str, int]:
    """The PostgreSQL server that rendered projects' tests use (.ci/run starts it)."""
    try:
        socket.create_connection(POSTGRES, timeout=2).close()
    except OSError:
        pytest.fail(
            f"PostgreSQL is not answering on {POSTGRES[0]}:{POSTGRES[1]}; "
            "start it (bash .ci/run does) before running these tests"
        )
    return POSTGRES


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
