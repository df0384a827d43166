"""Derived answers and answer checks for copier.yml.

Each check returns an error message, or "" when the value is fine: copier treats a
validator that renders to a non-empty string as a rejection and shows that string.
The functions are pure so the template's tests can call them directly.
"""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata
from urllib.parse import urlsplit

from jinja2 import Environment
from jinja2.ext import Extension

# Top-level modules the rendered project imports or installs; a package with one of
# these names would shadow it (or be shadowed) and fail at import time.
DEPENDENCY_MODULES = frozenset(
    {
        "alembic",
        "annotated_types",
        "anyio",
        "asyncpg",
        "dotenv",
        "email_validator",
        "fastapi",
        "greenlet",
        "h11",
        "httpcore",
        "httptools",
        "httpx",
        "idna",
        "mako",
        "markupsafe",
        "migrations",
        "mypy",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "pytest",
        "pytest_asyncio",
        "ruff",
        "sniffio",
        "sqlalchemy",
        "starlette",
        "tests",
        "typing_extensions",
        "uvicorn",
        "uvloop",
        "watchfiles",
        "websockets",
        "yaml",
    }
)

# The drivers the rendered code is written and tested for, per dialect.
ASYNC_DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite", "mysql": "asyncmy"}
EXAMPLE_URLS = {
    "postgresql": "postgresql+asyncpg://user@host:5432/dbname",
    "sqlite": "sqlite+aiosqlite:///./file.db",
    "mysql": "mysql+asyncmy://user@host:3306/dbname",
}

_SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def slugify(text: str) -> str:
    """'My Service!' -> 'my-service': ASCII, lowercase, words joined by dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = "-".join(words)
    # A slug must start with a letter to yield an importable package name.
    return slug if slug[:1].isalpha() else f"service-{slug}".rstrip("-")


def text_answer_error(value: str, question: str, max_length: int = 200) -> str:
    """Free text is rendered into TOML and Python strings: keep it one plain line."""
    if not value.strip():
        return f"{question} must not be empty"
    if len(value) > max_length:
        return f"{question} must be at most {max_length} characters; got {len(value)}"
    if any(char in value for char in '"\\\n\r'):
        return f"{question} must be one line without double quotes or backslashes"
    return ""


def project_slug_error(slug: str) -> str:
    if _SLUG.match(slug):
        return ""
    return (
        "project_slug must be lowercase letters and digits separated by single "
        f"dashes, starting with a letter (e.g. 'my-service'); got {slug!r}"
    )


def package_name_error(name: str) -> str:
    if not name.isidentifier() or not name.isascii():
        return (
            "package_name must be a valid Python identifier (e.g. 'my_service'); "
            f"got {name!r}"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"package_name {name!r} is a Python keyword; choose another name"
    if name != name.lower():
        return f"package_name must be lowercase (PEP 8); got {name!r}"
    if name in sys.stdlib_module_names:
        return f"package_name {name!r} would shadow the standard library module"
    if name in DEPENDENCY_MODULES:
        return f"package_name {name!r} would shadow the dependency or directory"
    return ""


def author_email_error(email: str) -> str:
    if _EMAIL.match(email):
        return ""
    return f"author_email must look like name@example.com; got {email!r}"


def database_url_error(url: str, database: str = "postgresql") -> str:
    """Check the URL as SQLAlchemy's make_url reads it, without needing SQLAlchemy."""
    parts = urlsplit(url)
    dialect, _, driver = parts.scheme.partition("+")
    example = EXAMPLE_URLS.get(database, EXAMPLE_URLS["postgresql"])
    if not parts.scheme or "://" not in url:
        return f"database_url must look like {example}; got {url!r}"
    if dialect not in ASYNC_DRIVERS:
        supported = ", ".join(sorted(ASYNC_DRIVERS))
        return f"database_url: dialect {dialect!r} is not supported; use {supported}"
    if dialect != database:
        return (
            f"database_url is a {dialect} URL, but the database answer is "
            f"{database!r}; use a URL like {example}"
        )
    expected = ASYNC_DRIVERS[dialect]
    if driver != expected:
        given = f"driver {driver!r}" if driver else "no driver"
        return (
            f"database_url must name the async driver {expected!r} "
            f"({dialect}+{expected}://...); it has {given}"
        )
    if dialect == "sqlite":
        return _sqlite_url_error(url, parts.netloc, parts.path)
    if parts.password is not None:
        return (
            "database_url must not contain a password: answers are saved in "
            ".copier-answers.yml. Leave it out and set DATABASE_URL in .env instead"
        )
    try:
        _ = parts.port  # urlsplit checks the port lazily, on access
    except ValueError:
        return f"database_url has an invalid port; got {url!r}"
    if not parts.hostname:
        return f"database_url must name a host; got {url!r}"
    if not parts.path.strip("/"):
        return f"database_url must name a database after the host; got {url!r}"
    return ""


def _sqlite_url_error(url: str, host: str, path: str) -> str:
    # sqlite+aiosqlite:///relative.db and sqlite+aiosqlite:////absolute.db: no host.
    if host:
        return (
            "database_url: a SQLite URL names a file, not a host: "
            f"sqlite+aiosqlite:///./file.db; got {url!r}"
        )
    file = path.removeprefix("/")
    if not file or file == ":memory:":
        # Every pooled connection would get its own empty in-memory database.
        return f"database_url must name a database file; got {url!r}"
    return ""


def integer_answer_error(value: object, question: str, minimum: int) -> str:
    # Integer questions are `type: yaml` so that "abc" reaches this check, which can
    # name the question, instead of failing inside int() with a bare ValueError.
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{question} must be an integer >= {minimum}; got {value!r}"
    if value < minimum:
        return f"{question} must be >= {minimum}; got {value}"
    return ""


def boolean_answer_error(value: object, question: str) -> str:
    # Boolean questions are `type: yaml` too: copier's bool type reads any
    # unknown word ("maybe") as true.
    if isinstance(value, bool):
        return ""
    return f"{question} must be true or false (yes/no); got {value!r}"


# PostgreSQL's default max_connections (100) minus superuser_reserved_connections (3).
DEFAULT_MAX_CONNECTIONS = 97


def pool_capacity_error(pool_size: object, max_overflow: object) -> str:
    """Valid alone, absurd together: one process could exhaust the server."""
    if not (isinstance(pool_size, int) and isinstance(max_overflow, int)):
        return ""  # the per-question checks report non-integers
    total = pool_size + max_overflow
    if total > DEFAULT_MAX_CONNECTIONS:
        return (
            f"pool_size + max_overflow = {total}: one process could open more "
            f"connections than a default PostgreSQL server allows to applications "
            f"({DEFAULT_MAX_CONNECTIONS}); lower them, or raise max_connections and "
            "put PgBouncer in front"
        )
    return ""


def pool_recycle_error(value: object) -> str:
    if error := integer_answer_error(value, "pool_recycle", -1):
        return error
    if value == 0:
        return (
            "pool_recycle 0 would reconnect on every checkout; use -1 (never) or >= 1"
        )
    return ""


def positive_number_answer_error(value: object, question: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{question} must be a number of seconds > 0; got {value!r}"
    if not value > 0 or value == float("inf"):
        return f"{question} must be a finite number of seconds > 0; got {value}"
    return ""


def database_name(url: str) -> str:
    """The database a URL names: 'postgresql+asyncpg://u@h/app?ssl=1' -> 'app'."""
    return urlsplit(url).path.lstrip("/")


def sqlite_path(url: str) -> str:
    """The file a SQLite URL names: 'sqlite+aiosqlite:///./app.db' -> './app.db'."""
    return urlsplit(url).path.removeprefix("/")


class AnswersExtension(Extension):
    """Expose the functions above to copier.yml as Jinja filters."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(
            {
                "slugify": slugify,
                "database_name": database_name,
                "sqlite_path": sqlite_path,
                "text_answer_error": text_answer_error,
                "project_slug_error": project_slug_error,
                "package_name_error": package_name_error,
                "author_email_error": author_email_error,
                "database_url_error": database_url_error,
                "integer_answer_error": integer_answer_error,
                "positive_number_answer_error": positive_number_answer_error,
                "pool_recycle_error": pool_recycle_error,
                "boolean_answer_error": boolean_answer_error,
            }
        )
        environment.globals["pool_capacity_error"] = pool_capacity_error
