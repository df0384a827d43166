"""copier.yml as a specification: defaults, derived answers and every rejection."""

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .helpers import TEMPLATE_ROOT, copy_of_the_template, render

# extensions/ is not a package: copier loads answers.py by path, and so do we.
sys.path.insert(0, str(TEMPLATE_ROOT / "extensions"))
import answers


def questions() -> dict[str, dict[str, object]]:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    return {k: v for k, v in config.items() if not k.startswith("_")}


def recorded_answers(project: Path) -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(
        (project / ".copier-answers.yml").read_text()
    )
    return loaded


def test_every_question_has_help_and_a_default() -> None:
    for name, question in questions().items():
        assert question.get("help"), name
        assert "default" in question, name


def test_defaults_are_the_documented_ones(tmp_path: Path) -> None:
    recorded = recorded_answers(render(tmp_path / "p"))

    assert recorded["project_name"] == "My Service"
    assert recorded["project_slug"] == "my-service"
    assert recorded["package_name"] == "my_service"
    assert recorded["python_version"] == "3.11"
    assert recorded["database_url"] == (
        "postgresql+asyncpg://postgres@localhost:5432/my_service"
    )
    assert recorded["pool_size"] == 5
    assert recorded["max_overflow"] == 10
    assert recorded["pool_timeout"] == 30.0
    assert recorded["pool_recycle"] == 3600
    assert recorded["pool_pre_ping"] is True
    assert recorded["echo_sql"] is False
    assert recorded["pgbouncer"] is False
    assert recorded["read_replica"] is False
    assert recorded["license"] == "Proprietary"


def test_slug_package_and_database_derive_from_the_project_name(
    tmp_path: Path,
) -> None:
    recorded = recorded_answers(render(tmp_path / "p", project_name="Café Orders API!"))

    assert recorded["project_slug"] == "cafe-orders-api"
    assert recorded["package_name"] == "cafe_orders_api"
    assert str(recorded["database_url"]).endswith("/cafe_orders_api")


# The start of the URL to use instead of the one given.
POSTGRESQL = "postgresql+asyncpg://"
INVALID_ANSWERS = [
    ("project_name", "   ", "must not be empty"),
    ("project_name", 'My "quoted" Service', 'without " or'),
    ("project_name", "x" * 61, "at most 60"),
    ("project_slug", "My Service", "lowercase only; got 'My Service'"),
    ("project_slug", "My--Slug", "lowercase only; got 'My--Slug'"),
    ("project_slug", "1st-service", "start with a-z; got '1st-service'"),
    ("project_slug", "my--service", "no double dash; got 'my--service'"),
    ("project_slug", "my service", "a-z, 0-9, - only; got 'my service'"),
    ("project_slug", "my_service", "use -, not _; got 'my_service'"),
    ("project_slug", "service-", "no - at either end; got 'service-'"),
    ("package_name", "1service", "start with a-z; got '1service'"),
    ("package_name", "shop-orders", "use _, not -; got 'shop-orders'"),
    ("package_name", "Shop-Orders", "lowercase only; got 'Shop-Orders'"),
    ("package_name", "café", "a-z, 0-9, _ only; got 'café'"),
    ("package_name", "class", "keyword"),
    ("package_name", "json", "standard library"),
    ("package_name", "sqlalchemy", "shadows a dependency"),
    ("package_name", "tests", "shadows a dependency"),
    ("package_name", "My_Service", "lowercase only; got 'My_Service'"),
    ("description", "two\nlines", "one line"),
    ("author_name", "back\\slash", 'without " or \\'),
    ("author_email", "not-an-email", "name@example.com"),
    ("python_version", "2.7", "is not in ['3.11', '3.12', '3.13', '3.14']"),
    ("database_url", "not a url", "not a URL"),
    ("database_url", "postgresql://app@localhost/app", "begin with " + POSTGRESQL),
    ("database_url", "postgres://app@localhost/app", "begin with " + POSTGRESQL),
    ("database_url", "postgresql+psycopg2://app@db/app", "begin with " + POSTGRESQL),
    ("database_url", "mysql+asyncmy://app@localhost/app", "database is postgresql"),
    ("database_url", "oracle+oracledb://app@localhost/app", "use postgresql, sqlite"),
    ("database_url", "sqlite+aiosqlite:///./app.db", "database is postgresql"),
    ("database", "oracle", "is not in"),
    ("database_url", "postgresql+asyncpg://app:hunter2@localhost/app", "password"),
    ("database_url", "postgresql+asyncpg://app@localhost", "name a database"),
    ("database_url", "postgresql+asyncpg://app@localhost:99999/app", "invalid port"),
    ("pool_size", 0, "must be >= 1; got 0"),
    ("pool_size", "abc", "must be an integer >= 1; got 'abc'"),
    ("pool_size", 2.5, "must be an integer"),
    ("pool_size", 200, "must be 1 to 97; got 200"),
    ("max_overflow", -1, "must be >= 0; got -1"),
    ("pool_timeout", 0, "> 0"),
    ("pool_timeout", -3.5, "> 0"),
    ("pool_timeout", "soon", "must be seconds > 0; got 'soon'"),
    ("pool_recycle", -2, "must be >= -1"),
    ("pool_recycle", 0, "use -1 (never) or >= 1"),
    ("pool_pre_ping", "maybe", "must be true or false"),
    ("pgbouncer", "transaction", "must be true or false"),
    ("read_replica", "yes please", "must be true or false"),
    ("echo_sql", 2, "must be true or false"),
    ("leave_out", "bench", "a list of paths; got 'bench'"),
    ("leave_out", ["../shared"], "inside the project; got '../shared'"),
    ("leave_out", ["/etc"], "inside the project; got '/etc'"),
]

# The command line a user types, from the working tree's last commit.
COPY_HEAD = ("copy", "--trust", "--defaults", "--vcs-ref", "HEAD")


def copier(*arguments: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """`copier ARGUMENTS` in a process of its own, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "copier", *arguments],
        capture_output=True,
        text=True,
        check=check,
    )


# Copier shows a rejection on the prompt's bottom line and a help text after an
# icon (two columns and a space), both cut at the terminal's width.
TERMINAL_WIDTH = 80


@pytest.mark.parametrize("question", list(questions()))
def test_every_help_fits_one_terminal_line(question: str) -> None:
    help_text = str(questions()[question]["help"])

    assert "\n" not in help_text
    assert len(help_text) <= TERMINAL_WIDTH - 3, help_text


SQLITE_URLS = [
    ("postgresql+asyncpg://app@localhost/app", "database is sqlite"),
    ("sqlite:///./app.db", "begin with sqlite+aiosqlite:///"),
    ("sqlite+aiosqlite://host/app.db", "names a file, not a host"),
    ("sqlite+aiosqlite:///:memory:", "must name a database file"),
    ("sqlite+aiosqlite:///", "must name a database file"),
]


MYSQL_URLS = [
    ("mysql+pymysql://app@localhost/app", "begin with mysql+asyncmy://"),
    ("mysql://app@localhost/app", "begin with mysql+asyncmy://"),
    ("mariadb://app@localhost/app", "begin with mysql+asyncmy://"),
    ("mysql+asyncmy://app:pw@localhost/app", "no password here"),
    ("mysql+asyncmy://app@localhost", "must name a database"),
    ("postgresql+asyncpg://app@localhost/app", "database is mysql"),
]


def test_mysql_gets_a_mariadb_url(tmp_path: Path) -> None:
    recorded = recorded_answers(render(tmp_path / "p", database="mysql"))

    assert recorded["database_url"] == "mysql+asyncmy://root@localhost:3306/my_service"
    assert "pgbouncer" not in recorded


@pytest.mark.parametrize(
    ("database", "url", "message"),
    [("sqlite", url, message) for url, message in SQLITE_URLS]
    + [("mysql", url, message) for url, message in MYSQL_URLS],
)
def test_a_database_url_must_fit_the_database_and_its_async_driver(
    copie, database: str, url: str, message: str
) -> None:
    result = copie.copy(extra_answers={"database": database, "database_url": url})

    assert result.exit_code != 0
    assert "for question 'database_url'" in str(result.exception)
    assert message in str(result.exception)


def test_sqlite_gets_a_file_url_and_fixed_pool_settings(tmp_path: Path) -> None:
    recorded = recorded_answers(render(tmp_path / "p", database="sqlite"))
    settings = (tmp_path / "p/src/my_service/config.py").read_text()

    assert recorded["database_url"] == "sqlite+aiosqlite:///./my_service.db"
    # The pool and PostgreSQL-only questions are not asked, so not recorded.
    for question in ("pool_size", "max_overflow", "pgbouncer", "read_replica"):
        assert question not in recorded
    assert "Field(default=0, ge=0)" in settings  # max_overflow
    assert "Field(default=-1, ge=-1)" in settings  # pool_recycle


@pytest.mark.parametrize(
    ("pool_size", "max_overflow", "message"),
    [(90, 10, "<= 97 - pool_size = 7; got 10"),
     (5, 93, "<= 97 - pool_size = 92; got 93"),
     (10, 100, "<= 97 - pool_size = 87; got 100")],
)  # fmt: skip
def test_a_pool_larger_than_the_server_allows_is_rejected(
    copie, pool_size: int, max_overflow: int, message: str
) -> None:
    result = copie.copy(
        extra_answers={"pool_size": pool_size, "max_overflow": max_overflow}
    )

    assert result.exit_code != 0
    assert f"for question 'max_overflow': {message}" in str(result.exception)


def test_the_largest_pool_a_default_server_allows_is_accepted(copie) -> None:
    result = copie.copy(extra_answers={"pool_size": 90, "max_overflow": 7})

    assert result.exit_code == 0, result.exception


@pytest.mark.parametrize(
    ("question", "value", "message"),
    INVALID_ANSWERS,
    ids=[f"{q}={v!r}"[:40] for q, v, _ in INVALID_ANSWERS],
)
def test_invalid_answer_is_rejected_naming_the_question(
    copie, question: str, value: object, message: str
) -> None:
    result = copie.copy(extra_answers={question: value})

    assert result.exit_code != 0
    # Copier words it "Validation error for question 'x'" or "Invalid choice for 'x'".
    assert f"for question '{question}'" in str(result.exception) or (
        f"Invalid choice for '{question}'" in str(result.exception)
    )
    assert message in str(result.exception)
    if "choices" not in questions()[question]:  # a prompt offers only the choices
        assert len(str(result.exception)) <= TERMINAL_WIDTH, result.exception


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("pool_size=0", "Validation error for question 'pool_size'"),
        ("pool_size=many", "'pool_size': must be an integer >= 1; got 'many'"),
        ("pgbouncer=maybe", "'pgbouncer': must be true or false"),
        ("pool_timeout=soon", "'pool_timeout': must be seconds > 0; got 'soon'"),
        ("database_url=sqlite:///x.db", "Validation error for question 'database_url'"),
        ("python_version=2.7", "Invalid choice for 'python_version': '2.7'"),
        ("package_name=shop-orders", "'package_name': use _, not -; got 'shop-orders'"),
    ],
)
def test_cli_rejects_a_bad_answer_and_writes_nothing(
    tmp_path: Path, data: str, message: str
) -> None:
    destination = tmp_path / "service"

    completed = copier(*COPY_HEAD, "--data", data, str(TEMPLATE_ROOT),
                       str(destination))  # fmt: skip

    assert completed.returncode == 1
    # The refusal alone, as its last line, without Copier's traceback.
    assert "Traceback" not in completed.stderr, completed.stderr
    last_line = completed.stderr.splitlines()[-1]
    assert message in last_line
    # Copier words a wrong choice itself, listing the choices, and only --data
    # can give one (a prompt offers the choices).
    if "Invalid choice" not in last_line:
        assert len(last_line) <= TERMINAL_WIDTH, last_line
    assert not destination.exists()


def test_rendering_without_trust_is_refused(tmp_path: Path) -> None:
    # The Jinja extensions make the template "unsafe" to copier: users must opt in.
    copy = ["copy", "--defaults", "--vcs-ref", "HEAD", "--data", "database=sqlite",
            str(TEMPLATE_ROOT)]  # fmt: skip
    refused, trusted = tmp_path / "refused", tmp_path / "trusted"

    completed = copier(*copy, str(refused))
    control = copier(*copy, "--trust", str(trusted))

    # Copier's own refusal (exit 4, "unsafe"), not any other failure: the same
    # command with --trust renders.
    assert completed.returncode == 4, completed.stderr
    assert "unsafe" in completed.stderr.lower()
    assert "--trust" in completed.stderr
    assert not refused.exists()
    assert control.returncode == 0, control.stderr
    assert (trusted / "pyproject.toml").is_file()


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("My Service", "my-service"),
        ("  Orders -- API v2 ", "orders-api-v2"),
        ("Über Café", "uber-cafe"),
        ("42 Things", "service-42-things"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert answers.slugify(text) == slug


@pytest.mark.parametrize("name", ["my_service", "orders_api", "svc2"])
def test_good_package_names_pass(name: str) -> None:
    assert answers.package_name_error(name) == ""


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@localhost:5432/my_service",
        "postgresql+asyncpg://app@db.internal/app?ssl=require",
        "postgresql+asyncpg://app@[::1]:5433/app",
    ],
)
def test_good_database_urls_pass(url: str) -> None:
    assert answers.database_url_error(url) == ""


@pytest.mark.parametrize("database", ["postgresql", "sqlite", "mysql"])
def test_the_next_steps_after_a_copy_paste_as_they_read(
    tmp_path: Path, database: str
) -> None:
    destination = tmp_path / "service"

    completed = copier(*COPY_HEAD, "--data", f"database={database}",
                       str(TEMPLATE_ROOT), str(destination), check=True)  # fmt: skip

    message = completed.stderr[completed.stderr.index("Next steps:") :]
    block = itertools.takewhile(str.strip, message.splitlines()[1:])
    steps = [line.strip() for line in block]
    assert steps[0] == f"cd {destination}"
    # Each line is a command or a comment of its own, at most 80 columns: a
    # comment the terminal wrapped would paste as a command.
    commands = ("git ", "uv ", "createdb ", "mariadb ")
    for step in steps[1:]:
        assert step.startswith(("#", *commands)), step
        assert len(f"    {step}") <= TERMINAL_WIDTH, step
    assert steps[-1] == "uv run my-service serve"


def test_a_copy_from_a_plain_directory_claims_no_commit(tmp_path: Path) -> None:
    # No git: Copier records no _commit, and the message names none.
    source = copy_of_the_template(tmp_path / "template")

    completed = copier("copy", "--trust", "--defaults", "--data", "database=sqlite",
                       str(source), str(tmp_path / "service"), check=True)  # fmt: skip

    assert "Next steps:" in completed.stderr
    assert "Rendered from commit" not in completed.stderr
