"""Every rendered sample of tests/samples.json, the CI workflow's matrix.

Each is installed as its README says (`uv sync`), linted, type-checked, and
its own suite run against its database: PostgreSQL, through a throwaway
PgBouncer for the `pgbouncer` answer, MariaDB, or a SQLite file. Then its
answers are read back from the running engine and the service is served.
Checks that exist for one option alone are in the modules named after it.
"""

import importlib.util
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from .helpers import (
    SAMPLES,
    TEMPLATE_ROOT,
    empty_database,
    lint_and_type_check,
    render,
    run,
    run_rendered_tiers,
    serve_and_create_a_user,
    sync_into_shared_venv,
)

pytestmark = pytest.mark.generated

DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite", "mysql": "asyncmy"}

# extensions/ is no package: load answers.py by path, as copier does.
_spec = importlib.util.spec_from_file_location(
    "answers", TEMPLATE_ROOT / "extensions" / "answers.py"
)
assert _spec is not None
assert _spec.loader is not None
answers_extension = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(answers_extension)


# What a render has where copier asks nothing: SQLite's fixed pool, never
# recycled and not pinged (copier.yml's defaults for it); no PgBouncer but on
# PostgreSQL.
NOT_ASKED = {
    "pool_size": 5,
    "max_overflow": 0,
    "pool_timeout": 30.0,
    "pool_recycle": -1,
    "pool_pre_ping": False,
    "pgbouncer": False,
}


@dataclass(frozen=True)
class Sample:
    name: str
    project: Path
    env: dict[str, str]
    # Every answer, as copier recorded it in the project (defaults too).
    answers: dict[str, Any]
    # The fault-tier modules it runs (tests/samples.json says why).
    faults: tuple[str, ...]

    @property
    def database(self) -> str:
        return str(self.answers["database"])

    @property
    def package(self) -> str:
        return str(self.answers["package_name"])

    @property
    def command(self) -> str:
        return str(self.answers["project_slug"])

    def answer(self, question: str) -> Any:
        return self.answers.get(question, NOT_ASKED.get(question))


@pytest.fixture(
    scope="module",
    params=[
        # One xdist worker per sample: rendered and installed once, there.
        pytest.param(
            name, marks=[pytest.mark.sample(name), pytest.mark.xdist_group(name)]
        )
        for name in SAMPLES
    ],
)
def sample(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    uv: str,
    shared_venv: Path,
) -> Sample:
    # Module scope: pytest runs one sample's tests together, while it is the
    # project installed in the shared venv.
    name: str = request.param
    answers = SAMPLES[name]["answers"]
    project = render(tmp_path_factory.mktemp(name) / "service", **answers)
    env = sync_into_shared_venv(project, uv, shared_venv)
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    faults = tuple(SAMPLES[name].get("faults", ()))
    return Sample(name, project, env, recorded, faults)


def database_url(sample: Sample, request: pytest.FixtureRequest, name: str) -> str:
    """A URL of database `name` on the server this sample's tests use."""
    if sample.database == "mysql":
        host, port = request.getfixturevalue("mariadb")
        return f"mysql+asyncmy://root@{host}:{port}/{name}"
    host, port = request.getfixturevalue("postgres")
    if sample.answer("pgbouncer") and name.endswith("_test"):
        host, port = "127.0.0.1", request.getfixturevalue("bouncer")
    return f"postgresql+asyncpg://postgres@{host}:{port}/{name}"


def test_ruff_ruff_format_and_mypy_strict_pass(sample: Sample) -> None:
    lint_and_type_check(sample.project, sample.env)


def test_rendered_suite_passes_against_its_database(
    sample: Sample, request: pytest.FixtureRequest
) -> None:
    env = dict(sample.env)
    if sample.database != "sqlite":
        # The prefix of the databases the suite creates, one per worker.
        test_database = f"{sample.package}_test"
        env["TEST_DATABASE_URL"] = database_url(sample, request, test_database)
    if sample.answer("pgbouncer"):
        before = transactions_through(request.getfixturevalue("bouncer"), test_database)

    # The defaults sample measures its coverage against the gate.
    measured = sample.name == "defaults"
    output = run_rendered_tiers(
        sample.project, env, faults=sample.faults, coverage=measured
    )
    if measured:
        check_the_readmes_numbers(sample.project, output)

    if sample.answer("pgbouncer"):
        # The traffic went through PgBouncer: its own count of transactions
        # (the load test alone makes 32 clients x 32 requests x 3).
        after = transactions_through(request.getfixturevalue("bouncer"), test_database)
        assert after - before > 3 * 32 * 32


def check_the_readmes_numbers(project: Path, output: str) -> None:
    """The numbers README.md's example session and the rendered README quote
    for a default render are the ones this render produced."""
    everyday = re.search(r"^(\d+) passed", output, re.MULTILINE)
    assert everyday is not None, output[-2000:]
    tests = int(everyday.group(1))
    lock = (project / "uv.lock").read_text()
    packages = len(re.findall(r"^\[\[package\]\]$", lock, re.MULTILINE))

    session = (TEMPLATE_ROOT / "README.md").read_text()
    assert f"Resolved {packages} packages" in session
    assert re.search(rf"^=+ {tests} passed =+$", session, re.MULTILINE), tests
    rendered = (project / "README.md").read_text()
    assert f"({tests} tests)" in rendered


def transactions_through(port: int, prefix: str) -> int:
    """Transactions PgBouncer served for the databases named `prefix`..."""
    stats = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-At",
         "-F", ",", "-c", "SHOW STATS", "pgbouncer"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    total = 0
    for line in stats.splitlines():
        name, total_xact_count, *_ = line.split(",")
        if name.startswith(prefix):
            total += int(total_xact_count)
    return total


ENGINE_SCRIPT = """
import asyncio, json
from {package}.main import create_app

async def main():
    app = create_app()
    async with app.router.lifespan_context(app):
        engine = app.state.database.engine
        pool = engine.pool
        listeners = [
            getattr(listener, "__name__", "")
            for listener in pool.dispatch.checkout
        ]
        print(json.dumps({{
            "pool_size": pool.size(),
            "max_overflow": pool._max_overflow,
            "pool_timeout": pool.timeout(),
            "pool_recycle": pool._recycle,
            "pool_pre_ping": "ping_if_idle" in listeners,
            "echo_sql": bool(engine.echo),
            "driver": engine.dialect.driver,
        }}))

asyncio.run(main())
"""


def test_answers_reach_the_running_engine(sample: Sample) -> None:
    script = ENGINE_SCRIPT.format(package=sample.package)

    completed = run(["python", "-c", script], cwd=sample.project, env=sample.env)

    questions = ["pool_size", "max_overflow", "pool_timeout", "pool_recycle",
                 "pool_pre_ping", "echo_sql"]  # fmt: skip
    assert json.loads(completed.stdout) == {
        **{question: sample.answer(question) for question in questions},
        "driver": DRIVERS[sample.database],
    }


def test_serve_migrates_and_answers(
    sample: Sample, request: pytest.FixtureRequest
) -> None:
    env = dict(sample.env)
    database = f"{sample.package}_serve"
    if sample.database == "sqlite":
        # As the quick start: no DATABASE_URL; the file appears beside it.
        database_file = sample.project / f"{sample.package}.db"
        database_file.unlink(missing_ok=True)
    else:
        url = database_url(sample, request, database)
        empty_database(sample.database, database, sample.project)
        env["DATABASE_URL"] = url

    created = serve_and_create_a_user(sample.command, sample.project, env)

    assert str(created["created_at"]).endswith("Z")
    if sample.database == "sqlite":
        assert database_file.exists()


def test_package_name_refuses_every_module_the_project_installs(
    sample: Sample,
) -> None:
    # A package named like a module of the project's environment (a dependency,
    # a dependency's dependency, a dev tool) would shadow it or be shadowed.
    listing = "import importlib.metadata as m; print(*m.packages_distributions())"
    completed = run(["python", "-c", listing], cwd=sample.project, env=sample.env)
    modules = {
        name
        for name in completed.stdout.split()
        if name.isidentifier() and not name.startswith("_") and name != sample.package
    }

    accepted = sorted(m for m in modules if not answers_extension.package_name_error(m))
    assert accepted == [], "add these to DEPENDENCY_MODULES in extensions/answers.py"
