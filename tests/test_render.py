"""What a render produces: the files, the answers file, no residue, determinism."""

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from .helpers import render

ANSWER_SETS = {
    "defaults": {},
    "custom": {
        "project_name": "Orders API",
        "package_name": "orders_core",
        "python_version": "3.12",
        "database_url": "postgresql+asyncpg://orders@db.internal:6432/orders",
        "pool_size": 20,
        "max_overflow": 0,
        "pool_timeout": 2.5,
        "pool_recycle": -1,
        "pool_pre_ping": False,
        "echo_sql": True,
    },
}

EXPECTED_FILES = [
    ".copier-answers.yml",
    ".env.example",
    ".gitignore",
    "README.md",
    "alembic.ini",
    "conftest.py",
    "pyproject.toml",
    "migrations/env.py",
    "migrations/script.py.mako",
    "migrations/versions/2026_11_23_0001_users_and_orders.py",
    "src/{pkg}/__init__.py",
    "src/{pkg}/__main__.py",
    "src/{pkg}/main.py",
    "src/{pkg}/config.py",
    "src/{pkg}/errors.py",
    "src/{pkg}/py.typed",
    "src/{pkg}/db/base.py",
    "src/{pkg}/db/engine.py",
    "src/{pkg}/db/failures.py",
    "src/{pkg}/db/pool.py",
    "src/{pkg}/db/session.py",
    "src/{pkg}/db/timestamps.py",
    "src/{pkg}/models/user.py",
    "src/{pkg}/models/order.py",
    "src/{pkg}/repositories/base.py",
    "src/{pkg}/repositories/users.py",
    "src/{pkg}/schemas/users.py",
    "src/{pkg}/api/deps.py",
    "src/{pkg}/api/health.py",
    "src/{pkg}/api/users.py",
    "tests/conftest.py",
    "tests/database.py",
    "tests/test_security.py",
    "tests/test_users.py",
    "tests/test_migrations.py",
    "tests/test_transactions.py",
]


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module", params=list(ANSWER_SETS))
def rendered(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, object], Path]:
    answers = ANSWER_SETS[request.param]
    return answers, render(tmp_path_factory.mktemp(request.param) / "p", **answers)


def test_expected_files_exist(rendered: tuple[dict[str, object], Path]) -> None:
    answers, project = rendered
    package = answers.get("package_name", "my_service")

    missing = [
        name.format(pkg=package)
        for name in EXPECTED_FILES
        if not (project / name.format(pkg=package)).is_file()
    ]

    assert missing == []


GRAFANA_LEGEND = re.compile(rb'"legendFormat": "[^"]*"')


def test_no_jinja_residue(rendered: tuple[dict[str, object], Path]) -> None:
    _, project = rendered
    files = tree(project)

    assert [name for name in files if name.endswith(".jinja")] == []
    assert [name for name in files if "{{" in name or "{%" in name] == []
    residue = [
        name
        for name, content in files.items()
        # ${{ ... }} is a GitHub Actions expression, which workflows keep, and
        # {{label}} in a Grafana legend names a label of the series shown.
        if re.search(rb"(?<!\$)\{\{|\{%|\{#", GRAFANA_LEGEND.sub(b"", content))
    ]
    assert residue == []


def test_answers_file_records_every_answer_and_the_template(
    rendered: tuple[dict[str, object], Path],
) -> None:
    answers, project = rendered
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())

    assert "_commit" in recorded
    assert "_src_path" in recorded
    for question, value in answers.items():
        assert recorded[question] == value


def test_answers_reach_the_settings_defaults(
    rendered: tuple[dict[str, object], Path],
) -> None:
    answers, project = rendered
    package = answers.get("package_name", "my_service")
    config = (project / "src" / str(package) / "config.py").read_text()
    env_example = (project / ".env.example").read_text()

    pool_size = answers.get("pool_size", 5)
    assert f"database_pool_size: int = Field(default={pool_size}, ge=1)" in config
    assert f"DATABASE_POOL_SIZE={pool_size}\n" in env_example
    pre_ping = answers.get("pool_pre_ping", True)
    assert f"database_pool_pre_ping: bool = {pre_ping}\n" in config


def test_python_version_sets_requires_python_and_tool_targets(
    rendered: tuple[dict[str, object], Path],
) -> None:
    answers, project = rendered
    version = str(answers.get("python_version", "3.11"))
    pyproject = (project / "pyproject.toml").read_text()

    assert f'requires-python = ">={version}"' in pyproject
    assert f'target-version = "py{version.replace(".", "")}"' in pyproject
    assert f'python_version = "{version}"' in pyproject


def test_rendering_is_deterministic(tmp_path: Path, template_snapshot: Path) -> None:
    answers = ANSWER_SETS["custom"]

    first = tree(render(tmp_path / "first", template_snapshot, **answers))
    second = tree(render(tmp_path / "second", template_snapshot, **answers))

    assert first == second


def test_no_secret_is_rendered(tmp_path: Path) -> None:
    project = render(tmp_path / "p")

    assert not (project / ".env").exists()
    assert ".env\n" in (project / ".gitignore").read_text()
    for content in tree(project).values():
        assert b"changethis" not in content.lower()


@pytest.mark.parametrize(
    ("license_", "first_line"),
    [
        ("MIT", "MIT License"),
        ("Apache-2.0", "Apache License"),
        ("BSD-3-Clause", "BSD 3-Clause License"),
        ("Proprietary", None),
    ],
)
def test_the_license_answer_renders_its_text_and_spdx_expression(
    tmp_path: Path, license_: str, first_line: str | None
) -> None:
    project = render(tmp_path / "p", license=license_, author_name="Ada Lovelace")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    readme = (project / "README.md").read_text()

    if first_line is None:
        assert not (project / "LICENSE").exists()
        assert pyproject["license"] == "LicenseRef-Proprietary"
        assert "No license is granted" in readme
        return
    text = (project / "LICENSE").read_text()
    assert text.splitlines()[0].strip() == first_line
    assert pyproject["license"] == license_
    assert pyproject["license-files"] == ["LICENSE"]
    assert f"[{license_}](LICENSE)" in readme
    if license_ != "Apache-2.0":  # its text carries no copyright line
        year = datetime.now(UTC).year
        assert re.search(rf"Copyright \(c\) {year},? Ada Lovelace", text)


# Per-database and per-option code lives in files selected by name; each render
# gets exactly its own.
VARIANT_FILES = {
    "src/{pkg}/db/idle_ping.py": lambda a: a["database"] != "sqlite",
    "src/{pkg}/db/utc_datetime.py": lambda a: a["database"] != "postgresql",
    "src/{pkg}/db/replica.py": lambda a: a.get("read_replica", False),
    "src/{pkg}/passwords.py": lambda a: a["database"] != "sqlite",
    "tests/server_admin.py": lambda a: a["database"] == "mysql",
    "tests/test_passwords.py": lambda a: a["database"] != "sqlite",
    "tests/test_faults.py": lambda a: a["database"] == "postgresql",
    "tests/postgres_server.py": lambda a: a["database"] == "postgresql",
    "tests/throwaway.py": lambda a: a["database"] != "sqlite",
    "tests/outage.py": lambda a: a["database"] != "sqlite",
    "tests/mariadb_server.py": lambda a: a["database"] == "mysql",
    "tests/test_mariadb_faults.py": lambda a: a["database"] == "mysql",
    "tests/test_postgresql.py": lambda a: (
        a["database"] == "postgresql" and not a.get("pgbouncer", False)
    ),
    "tests/test_pgbouncer.py": lambda a: a.get("pgbouncer", False),
    "tests/test_replica.py": lambda a: a.get("read_replica", False),
    "tests/test_sqlite.py": lambda a: a["database"] == "sqlite",
    "tests/test_mariadb.py": lambda a: a["database"] == "mysql",
}
DRIVER_MARKERS = {
    "sqlite": "BEGIN IMMEDIATE",
    "mysql": "SET time_zone",
    "postgresql": '"statement_timeout": str(',
    "pgbouncer": "prepared_statement_name_func",
}


@pytest.mark.parametrize(
    "answers",
    [
        {"database": "sqlite"},
        {"database": "mysql"},
        {"database": "postgresql"},
        {"database": "postgresql", "pgbouncer": True},
        {"database": "postgresql", "read_replica": True},
    ],
    ids=["sqlite", "mysql", "postgresql", "pgbouncer", "replica"],
)
def test_each_render_gets_its_own_variant_files(
    tmp_path: Path, answers: dict[str, object]
) -> None:
    project = render(tmp_path / "p", package_name="svc", **answers)

    present = {
        name: (project / name.format(pkg="svc")).is_file() for name in VARIANT_FILES
    }
    assert present == {name: bool(wanted(answers)) for name, wanted in
                       VARIANT_FILES.items()}  # fmt: skip
    engine = (project / "src" / "svc" / "db" / "engine.py").read_text()
    flavour = "pgbouncer" if answers.get("pgbouncer") else str(answers["database"])
    assert DRIVER_MARKERS[flavour] in engine
    others = set(DRIVER_MARKERS.values()) - {DRIVER_MARKERS[flavour]}
    assert not [marker for marker in others if marker in engine]
