"""What users do with the template, run exactly as the READMEs print it.

From a fresh clone of the template, with only the destination directory
substituted: both quick starts of README.md, an interactive `copier copy` typed
at a terminal, `copier update` from inside a project made by the quick start,
and the rendered README's worked example, step by step.
"""

import os
import re
import signal
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
import yaml

from .helpers import (
    REPORT_EVERY_TEST,
    TEMPLATE_ROOT,
    check_suite,
    clean_environment,
    empty_database,
    free_port,
    git,
    http,
    render,
    run,
    sync_into_shared_venv,
    wait_until_ready,
)
from .markdown import blocks, section

pytestmark = pytest.mark.generated

README = (TEMPLATE_ROOT / "README.md").read_text()


def readme_commands(heading: str) -> list[str]:
    return [block.body for block in blocks(section(README, heading), "sh")]


@pytest.fixture(scope="module")
def clone(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of the template, as a user gets with `git clone`."""
    destination = tmp_path_factory.mktemp("clone") / "template"
    run(["git", "clone", "-q", template_snapshot, destination], cwd=destination.parent)
    return destination


def user_environment() -> dict[str, str]:
    """The user's shell: nothing of this test run's Python or settings."""
    environment = clean_environment()
    for variable in ("UV_PROJECT_ENVIRONMENT", "PYTEST_ADDOPTS", "PYTHONPATH"):
        environment.pop(variable, None)
    return environment


def in_destination(command: str, default: str, destination: Path) -> str:
    """The README's command, with only its destination directory replaced."""
    assert default in command, f"{default} is not in:\n{command}"
    return command.replace(default, str(destination))


@pytest.fixture
def serving() -> Iterator[list[subprocess.Popen[str]]]:
    """Commands that end by serving; each is interrupted (Ctrl-C) at teardown."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            process.communicate(timeout=30)


def run_until_served(
    command: str, cwd: Path, serving: list[subprocess.Popen[str]]
) -> str:
    """Run a quick start in bash; it ends in `serve`: wait until the service is
    ready, as a user opening the printed address would. Its base URL.

    The shell sets PORT to a free port, as the README says to where 8000 is
    taken: two runs on one machine never meet there.
    """
    port = free_port()
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=cwd,
        env=user_environment() | {"PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    serving.append(process)
    base = f"http://127.0.0.1:{port}"
    # uvx and uv sync install everything on a first run.
    wait_until_ready(f"{base}/health/ready", process, seconds=600)
    return base


def stop(process: subprocess.Popen[str]) -> str:
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    return output


def fetch_with_assets(url: str) -> dict[str, int]:
    """A page's scripts, styles and icons, fetched from where the page says:
    their sizes by address. A CDN address fails the test (no internet here)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        html = response.read().decode()
    sizes = {}
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        address = urllib.parse.urljoin(url, asset)
        with urllib.request.urlopen(address, timeout=10) as got:
            sizes[asset] = len(got.read())
    assert sizes, f"{url} loads nothing"
    assert not [asset for asset in sizes if "//" in asset], sizes
    return sizes


def release_a_template_change(clone: Path) -> str:
    """What the maintainers do between two releases: a change, a commit, a tag."""
    settings = clone / "template" / "src" / "{{package_name}}" / "config.py.jinja"
    text = settings.read_text()
    old = "health_check_timeout: float = Field(default=2.0, gt=0)"
    assert old in text
    settings.write_text(text.replace(old, old.replace("2.0", "3.0")))
    git(clone, "commit", "-qam", "A longer readiness timeout")
    tag = "v99.0.0"  # newer than anything the clone was rendered from
    git(clone, "tag", tag)
    return tag


def test_sqlite_quick_start_serves_and_updates_later(
    clone: Path, tmp_path: Path, serving: list[subprocess.Popen[str]]
) -> None:
    quick_start = readme_commands("## Try it")[0]
    project = tmp_path / "my-service"

    run_until_served(in_destination(quick_start, "/tmp/my-service", project), clone,
                     serving)  # fmt: skip
    output = stop(serving[-1])

    assert "Traceback" not in output
    assert (project / "my_service.db").exists()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(clone)  # updatable: not a relative "."
    # "uv run pytest in the project runs its tests"
    tests = run(["uv", "run", "pytest", "-q"], cwd=project,
                env=user_environment() | REPORT_EVERY_TEST)  # fmt: skip
    check_suite(tests.stdout, project)

    # Months later: the rendered README's update section, verbatim.
    rendered_readme = (project / "README.md").read_text()
    first_commit, update = [
        block.body
        for block in blocks(section(rendered_readme, "## Updating from the template"))
        if block.language == "sh"
    ]
    run(["bash", "-euc", first_commit], cwd=project, env=user_environment())
    settings = project / "src" / "my_service" / "config.py"
    settings.write_text(settings.read_text().replace(
        'app_name: str = "My Service"', 'app_name: str = "Our Service"'))  # fmt: skip
    git(project, "commit", "-qam", "Our own name")
    tag = release_a_template_change(clone)

    updated = run(["bash", "-euc", update], cwd=project, env=user_environment())

    text = settings.read_text()
    assert 'app_name: str = "Our Service"' in text  # the project's edit
    assert "Field(default=3.0, gt=0)" in text  # the template's change
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == tag
    assert f"Updated to the template's {tag}" in updated.stdout + updated.stderr


def test_postgresql_quick_start_serves(
    clone: Path,
    tmp_path: Path,
    postgres: object,
    serving: list[subprocess.Popen[str]],
) -> None:
    quick_start = readme_commands("## Try it")[1]
    # A machine where the README's `CREATE DATABASE my_service` has not run yet.
    run(["psql", "-h", "localhost", "-U", "postgres", "-q", "-c",
         "DROP DATABASE IF EXISTS my_service WITH (FORCE)"], cwd=tmp_path)  # fmt: skip
    project = tmp_path / "pg-service"

    base = run_until_served(in_destination(quick_start, "/tmp/pg-service", project),
                            clone, serving)  # fmt: skip
    user = {"email": "ann@example.com", "full_name": "Ann"}
    status, created = http("POST", f"{base}/api/v1/users", user)
    docs = {page: fetch_with_assets(f"{base}{page}") for page in ("/docs", "/redoc")}
    output = stop(serving[-1])

    assert status == 201, created
    for page, assets in docs.items():  # served by the service itself: no CDN
        assert any(asset.endswith(".js") for asset in assets), page
        assert all(size > 1000 for size in assets.values()), assets
    assert "Running upgrade" in output
    assert "Traceback" not in output


class Terminal:
    """A user at an 80-column terminal answering copier's prompts."""

    def __init__(self, command: str, cwd: Path) -> None:
        environment = user_environment() | {"TERM": "xterm", "COLUMNS": "80"}
        self.child = pexpect.spawn("bash", ["-c", command], cwd=str(cwd),
                                   env=environment, dimensions=(40, 80),
                                   encoding="utf-8", timeout=120)  # fmt: skip

    def answer(self, help_text: str, typed: str | None = None, keys: str = "") -> None:
        """Wait for the prompt showing `help_text`; replace its default by `typed`
        (backspaces, as a user would), or press `keys`; then Enter."""
        self.child.expect_exact(help_text)
        if typed is not None:
            self.child.send("\x7f" * 80 + typed)
        self.child.send(keys + "\r")

    def confirm(self, help_text: str, key: str) -> None:
        self.child.expect_exact(help_text)
        self.child.send(key)

    def expect(self, text: str) -> None:
        self.child.expect_exact(text)


DOWN = "\x1b[B"
BILLING_URL = "postgresql+asyncpg://billing@db.internal:5432/billing"


def test_interactive_copy_records_exactly_what_was_typed(
    clone: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    (command,) = readme_commands("### Answering the questions yourself")
    project = tmp_path / "billing"
    terminal = Terminal(in_destination(command, "~/src/my-service", project), clone)
    request.addfinalizer(lambda: terminal.child.close(force=True))

    terminal.answer("Human-readable name of the service", "Billing API")
    terminal.answer("Distribution and command name")  # the derived default
    terminal.answer("Python package name", "Billing-API")
    # Every refusal: one bottom line naming the question, the rule and the value.
    refusal = "Validation error for question 'package_name': lowercase only"
    terminal.expect(f"{refusal}; got 'Billing-API'")
    terminal.child.send("\x7f" * 20 + "billing_api\r")
    terminal.answer("One-line description", "Invoices and payments")
    terminal.answer("Author or team name", "Ada Lovelace")
    terminal.answer("Author or team email", "ada@example.com")
    terminal.answer("Oldest Python version", keys=DOWN)  # 3.11 -> 3.12
    terminal.answer("License of the service's code", keys=DOWN)  # Proprietary -> MIT
    terminal.answer("Database: postgresql")  # the default, postgresql
    terminal.answer("Database URL, no password", BILLING_URL)
    terminal.answer("Connections kept open in the pool", "abc")
    # Copier's own refusal of text at a number question (README says so).
    terminal.expect("Invalid input")
    terminal.child.send("\x7f" * 5 + "0\r")
    terminal.expect("Validation error for question 'pool_size': must be >= 1; got 0")
    terminal.child.send("\x7f" * 5 + "12\r")
    terminal.answer("Extra connections beyond pool_size", "100")
    terminal.expect(
        "Validation error for question 'max_overflow': <= 97 - pool_size = 85; got 100"
    )
    terminal.child.send("\x7f" * 5 + "3\r")
    terminal.answer("Seconds a request waits for a free connection", "2.5")
    terminal.answer("Seconds after which a connection is replaced", "600")
    terminal.confirm("Will the service connect through PgBouncer", "y")
    terminal.confirm("Send GET reads to a streaming replica", "n")
    terminal.confirm("Ping connections that sat idle", "n")
    terminal.confirm("Log every SQL statement", "y")
    terminal.confirm("Trace requests and their SQL with OpenTelemetry", "y")
    terminal.expect(f'Your service "Billing API" is ready in {project}')
    terminal.child.expect(pexpect.EOF)
    terminal.child.close()

    assert terminal.child.exitstatus == 0
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert {k: v for k, v in answers.items() if not k.startswith("_")} == {
        "project_name": "Billing API",
        "project_slug": "billing-api",
        "package_name": "billing_api",
        "description": "Invoices and payments",
        "author_name": "Ada Lovelace",
        "author_email": "ada@example.com",
        "python_version": "3.12",
        "license": "MIT",
        "database": "postgresql",
        "database_url": BILLING_URL,
        "pool_size": 12,
        "max_overflow": 3,
        "pool_timeout": 2.5,
        "pool_recycle": 600,
        "pgbouncer": True,
        "read_replica": False,
        "pool_pre_ping": False,
        "echo_sql": True,
        "tracing": True,
    }
    settings = (project / "src" / "billing_api" / "config.py").read_text()
    for line in (
        f'"{BILLING_URL}"',
        "database_pool_size: int = Field(default=12, ge=1)",
        "database_max_overflow: int = Field(default=3, ge=0)",
        "database_pool_timeout: float = Field(default=2.5, gt=0)",
        "database_pool_recycle: int = Field(default=600, ge=-1)",
        "database_pool_pre_ping: bool = False",
        "database_echo: bool = True",
    ):
        assert line in settings
    assert (project / "LICENSE").read_text().startswith("MIT License")
    engine = (project / "src" / "billing_api" / "db" / "engine.py").read_text()
    assert "prepared_statement_name_func" in engine  # pgbouncer: y
    assert (project / "src" / "billing_api" / "tracing.py").is_file()  # tracing: y


WORKED_EXAMPLE = "## Adding a model, a migration, an endpoint and a test"


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_the_rendered_worked_example_works_as_written(
    database: str,
    tmp_path: Path,
    uv: str,
    shared_venv: Path,
    request: pytest.FixtureRequest,
) -> None:
    if database == "postgresql":
        request.getfixturevalue("postgres")
    elif database == "mysql":
        request.getfixturevalue("mariadb")
    project = render(tmp_path / "service", database=database,
                     package_name="worked_example")  # fmt: skip
    empty_database(database, "worked_example", tmp_path)
    env = sync_into_shared_venv(project, uv, shared_venv)
    git(project, "init", "-q")
    steps = blocks(section((project / "README.md").read_text(), WORKED_EXAMPLE))
    assert [step.language for step in steps] == [
        "python", "diff", "sh", "python", "diff", "python", "python", "diff",
        "python", "sh",
    ]  # fmt: skip

    for step in steps:
        if step.language == "python":
            path = re.search(r"new file\s+`([^`]+)`", step.prose)
            assert path is not None, step.prose
            (project / path[1]).write_text(step.body)
        elif step.language == "diff":
            run(["git", "apply", "-"], cwd=project, env=env, input=step.body)
        else:
            run(["bash", "-euc", step.body], cwd=project, env=env)

    revisions = list((project / "migrations" / "versions").glob("*_add_invoices.py"))
    assert len(revisions) == 1
    invoices = run(["pytest", "-q", "-p", "no:cacheprovider", "tests/test_invoices.py"],
                   cwd=project, env=env)  # fmt: skip
    assert "3 passed" in invoices.stdout
