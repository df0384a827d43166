"""What the template's tests share: rendering the template, running commands
and rendered projects, talking to a served project. Fixtures are in conftest.py."""

import json
import os
import re
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
import yaml
from copier import run_copy

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
# The rendered samples, shared with the CI workflow's matrix (tests/samples.json).
SAMPLES_FILE = TEMPLATE_ROOT / "tests" / "samples.json"
SAMPLES: dict[str, dict[str, Any]] = json.loads(SAMPLES_FILE.read_text())["samples"]
POSTGRES = ("127.0.0.1", 5432)
MARIADB = ("127.0.0.1", 3306)


def render(destination: Path, template: Path = TEMPLATE_ROOT, **answers: Any) -> Path:
    """Render the template's working tree (committed or not) with these answers.

    This is the call pytest-copie's fixtures make. They are used where a test
    needs one render of its own (test_answers.py); module-scoped samples, the
    update scenarios and renders of other templates (a clone, a snapshot) need
    a destination and a source of their choosing, which these fixtures do not
    take.
    """
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


def copy_of_the_template(destination: Path) -> Path:
    """The template's working tree at `destination`, without git or caches."""
    shutil.copytree(
        TEMPLATE_ROOT,
        destination,
        ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*_cache"),
    )
    return destination


def sync_into_shared_venv(project: Path, uv: str, shared_venv: Path) -> dict[str, str]:
    """`uv sync` a rendered project into the shared venv; the environment to run
    its tools with (the venv's bin first on PATH, no answer-overriding vars)."""
    env = clean_environment(
        UV_PROJECT_ENVIRONMENT=str(shared_venv),
        UV_PYTHON_DOWNLOADS="never",
        PATH=f"{shared_venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        # One mypy cache for every project in the venv: the dependencies are
        # the same, and checking them anew took most of each run's 15 to 40 s.
        MYPY_CACHE_DIR=str(shared_venv.parent / "mypy-cache"),
    )
    # SAMPLE_PYTHON: the CI matrix's interpreter for the rendered project.
    python = os.environ.get("SAMPLE_PYTHON", "python3")
    run([uv, "sync", "--python", python], cwd=project, env=env)
    return env


# Tests the READMEs' claims rest on: wherever their module is in a rendered
# project and runs, each must be reported PASSED by this id (a rename, a skip
# or a deselection here is a claim no longer checked).
ESSENTIAL_TESTS = {
    "tests/test_faults.py": (
        "test_outage_answers_503_quickly_recovers_and_loses_no_write[stop]",
        "test_outage_answers_503_quickly_recovers_and_loses_no_write[crash]",
        "test_sigterm_finishes_in_flight_requests_and_closes_every_connection",
        "test_a_killed_service_leaves_no_write_half_done_and_serves_after_restart",
        "test_a_hung_server_answers_503_within_the_statement_timeout",
        "test_pool_has_no_leak_after_tens_of_thousands_of_mixed_and_cancelled_requests",
    ),
    "tests/test_mariadb_faults.py": (
        "test_outage_answers_503_quickly_recovers_and_loses_no_write[stop]",
        "test_outage_answers_503_quickly_recovers_and_loses_no_write[crash]",
        "test_a_hung_server_answers_503_within_the_statement_timeout",
    ),
    "tests/test_transactions.py": (
        "test_a_failed_commit_is_never_answered_with_2xx[single-statement-write]",
        "test_a_failed_commit_is_never_answered_with_2xx[write-in-a-transaction]",
        "test_a_bulk_insert_is_all_or_nothing_with_real_commits",
        "test_each_route_opens_the_session_its_writes_need[POST /api/v1/users/bulk]",
        "test_a_bulk_insert_is_undone_when_its_request_fails_after_it",
    ),
    "tests/test_metrics.py": (
        "test_every_metric_passes_promtool",
        "test_two_workers_report_the_requests_and_pools_of_both",
        "test_an_exhausted_pool_shows_its_waiters_and_counts_each_timeout",
    ),
    "tests/test_emails.py": ("test_accepts_and_refuses_exactly_what_emailstr_does",),
    "tests/test_security.py": (
        "test_every_answer_matches_the_openapi_schema[negative POST /api/v1/users]",
        "test_every_answer_matches_the_openapi_schema[positive GET /api/v1/users]",
        "test_sequences_along_the_schemas_links_match_it",
    ),
    "tests/test_replica.py": (
        "test_reads_in_flight_when_the_replica_stops_are_answered_by_the_primary",
    ),
}
# Essential tests that some renders leave out, and for which answers: behind
# PgBouncer the service does not know the statement timeout (it is the role's),
# so it sets no client-side limit, and PgBouncer's query_timeout is the guard.
LEFT_OUT_FOR = {
    "test_a_hung_server_answers_503_within_the_statement_timeout": (
        lambda answers: bool(answers.get("pgbouncer"))
    ),
}
# With -rA, pytest ends with one line per test: what ran, by id.
REPORT_EVERY_TEST = {"PYTEST_ADDOPTS": "-rA -p no:cacheprovider"}


# The rendered modules whose every test is in the fault tier.
FAULT_MODULES = (
    "tests/test_faults.py",
    "tests/test_mariadb_faults.py",
    "tests/test_replica.py",
)


def run_rendered_suite(
    project: Path, env: Mapping[str, str], *options: str, not_run: tuple[str, ...] = ()
) -> str:
    """Run a rendered project's everyday tier as `uv run pytest` would, and
    check what ran (`check_suite`): every module but the fault tier's."""
    command = ["pytest", "-q", *options]
    stdout = run(command, cwd=project, env=dict(env) | REPORT_EVERY_TEST).stdout
    check_suite(stdout, project, not_run=FAULT_MODULES + not_run)
    return stdout


def run_rendered_tiers(
    project: Path, env: Mapping[str, str], *, faults: tuple[str, ...], coverage: bool
) -> str:
    """The everyday tier (with the coverage gate if `coverage`), then the fault
    tier's modules `faults`, as the rendered CI runs them; `check_suite` on
    what ran. Property tests take a developer's few examples, with a fixed
    seed: the template's CI runs many suites, each of them once."""
    env = dict(env) | REPORT_EVERY_TEST | {"HYPOTHESIS_PROFILE": "everyday"}
    everyday = ["--cov", "--cov-report=term"] if coverage else []
    command = ["pytest", "-q", "--hypothesis-seed=0", *everyday]
    stdout = run(command, cwd=project, env=env).stdout
    if faults:
        command = ["pytest", "-q", "-m", "faults", "--numprocesses", "0", *faults]
        stdout += run(command, cwd=project, env=env).stdout
    not_run = tuple(module for module in FAULT_MODULES if module not in faults)
    check_suite(stdout, project, not_run=not_run)
    return stdout


def check_suite(stdout: str, project: Path, not_run: tuple[str, ...] = ()) -> None:
    """From pytest's -rA report: every test module of the project (but
    `not_run`) has passing tests, the essential tests among them passed by id,
    and nothing failed or was skipped."""
    modules = {f"tests/{path.name}" for path in (project / "tests").glob("test_*.py")}
    passed = set(re.findall(r"^PASSED (tests/.+?)\s*$", stdout, re.MULTILINE))
    ran = {test_id.split("::")[0] for test_id in passed}
    assert ran == modules - set(not_run), f"not run: {sorted(modules - ran)}"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    expected = {
        f"{module}::{name}"
        for module, names in ESSENTIAL_TESTS.items()
        if module in ran
        for name in names
        if not (name in LEFT_OUT_FOR and LEFT_OUT_FOR[name](answers))
    }
    assert expected <= passed, f"did not pass: {sorted(expected - passed)}"
    # pytest's summary lines, not log lines that -rA shows ("ERROR    app.x: ...").
    outcomes = r"^(SKIPPED \[\d+\]|(FAILED|ERROR|XFAIL|XPASS) tests/)"
    assert not re.search(outcomes, stdout, re.MULTILINE), stdout[-3000:]


def lint_and_type_check(project: Path, env: Mapping[str, str]) -> None:
    run(["ruff", "check", "."], cwd=project, env=env)
    run(["ruff", "format", "--check", "."], cwd=project, env=env)
    run(["mypy"], cwd=project, env=env)


def empty_database(database: str, name: str, cwd: Path) -> None:
    """Database `name`, new and empty, on the shared server for `database`
    (PostgreSQL or MariaDB; SQLite makes its file itself)."""
    drop, create = f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"
    if database == "mysql":
        host, port = MARIADB
        client = ["mariadb", "-h", host, "-P", str(port), "-u", "root", "-e"]
        run([*client, f"{drop}; {create}"], cwd=cwd)
    elif database == "postgresql":
        host, port = POSTGRES
        client = ["psql", "-h", host, "-p", str(port), "-U", "postgres", "-q", "-c"]
        run([*client, f"{drop} WITH (FORCE)"], cwd=cwd)
        run([*client, create], cwd=cwd)


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
            output = server.communicate()[0] if server.stdout else ""
            pytest.fail(f"the service exited with {server.returncode}:\n{output}")
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
