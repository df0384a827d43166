"""Shared helpers and fixtures: rendering the template, running rendered projects."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from copier import run_copy

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
# The rendered samples, shared with the CI workflow's matrix (tests/samples.json).
SAMPLES_FILE = TEMPLATE_ROOT / "tests" / "samples.json"
SAMPLES: dict[str, dict[str, Any]] = json.loads(SAMPLES_FILE.read_text())["samples"]
POSTGRES = ("127.0.0.1", 5432)
MARIADB = ("127.0.0.1", 3306)


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
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command; if it fails, fail the test and show its output."""
    completed = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=dict(env) if env is not None else clean_environment(),
        input=input,
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


# Scratch repositories get an identity of their own, whatever the machine's git says.
GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]


def git(cwd: Path, *args: str) -> str:
    """Run git in a scratch repository; its output, stripped."""
    return run([*GIT, *args], cwd=cwd).stdout.strip()


def sync_into_shared_venv(project: Path, uv: str, shared_venv: Path) -> dict[str, str]:
    """`uv sync` a rendered project into the shared venv; the environment to run
    its tools with (the venv's bin first on PATH, no answer-overriding vars)."""
    env = clean_environment(
        UV_PROJECT_ENVIRONMENT=str(shared_venv),
        UV_PYTHON_DOWNLOADS="never",
        PATH=f"{shared_venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
    )
    # SAMPLE_PYTHON: the CI matrix's interpreter for the rendered project.
    python = os.environ.get("SAMPLE_PYTHON", "python3")
    run([uv, "sync", "--python", python], cwd=project, env=env)
    return env


def render_installed(
    tmp_path_factory: pytest.TempPathFactory,
    uv: str,
    shared_venv: Path,
    name: str,
) -> tuple[Path, dict[str, str]]:
    """Render a sample and install the project as its README says."""
    answers = SAMPLES[name]["answers"]
    destination = render(tmp_path_factory.mktemp(name) / "service", **answers)
    return destination, sync_into_shared_venv(destination, uv, shared_venv)


def run_rendered_suite(project: Path, env: Mapping[str, str]) -> str:
    """Run a rendered project's own tests; all must pass and none be skipped."""
    completed = run(
        ["pytest", "-q", "-p", "no:cacheprovider", "-rA"], cwd=project, env=env
    )
    assert " passed" in completed.stdout
    assert "skipped" not in completed.stdout
    return completed.stdout


def lint_and_type_check(project: Path, env: Mapping[str, str]) -> None:
    run(["ruff", "check", "."], cwd=project, env=env)
    run(["ruff", "format", "--check", "."], cwd=project, env=env)
    run(["mypy"], cwd=project, env=env)


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


def require_server(name: str, address: tuple[str, int]) -> tuple[str, int]:
    """The address, once something answers there; else fail saying how to fix it."""
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError:
        pytest.fail(
            f"{name} is not answering on {address[0]}:{address[1]}; "
            "start it (bash .ci/run does) before running these tests"
        )
    return address


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http(method: str, url: str, body: object = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_until_ready(url: str, server: subprocess.Popen[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the service exited with {server.returncode}")
        try:
            if http("GET", url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} was not ready within {seconds} s")


def serve_and_create_a_user(
    command: str, project: Path, env: dict[str, str]
) -> dict[str, object]:
    """Run `<command> serve` as the README says; create a user and read it back.

    The server must start, answer, and stop on SIGINT with status 0 and no
    traceback. Returns the created user."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [command, "serve", "--port", str(port)],
        cwd=project,
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
        assert http("GET", f"{base}/openapi.json")[0] == 200
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)

    assert server.returncode == 0, output
    assert "Traceback" not in output
    return created[1]
