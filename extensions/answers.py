"""Derived answers and answer checks for copier.yml.

Each check returns an error message, or "" when the value is fine: copier treats a
validator that renders to a non-empty string as a rejection and shows that string.
The checks are pure functions, so the template's tests call them directly.
"""

from __future__ import annotations

import keyword
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment
from jinja2.ext import Extension

# Top-level modules of a rendered project's environment (its dependencies, theirs,
# its dev tools) and its own directories: a package named like one would shadow
# it or be shadowed. tests/test_samples.py checks every sample's installed
# modules against this list, so a new dependency cannot be missed.
DEPENDENCY_MODULES = frozenset(
    {
        "aiosqlite",
        "alembic",
        "annotated_doc",
        "annotated_types",
        "anyio",
        "ast_serialize",
        "asyncmy",
        "asyncpg",
        "certifi",
        "charset_normalizer",
        "click",
        "coverage",
        "dns",
        "dotenv",
        "email_validator",
        "execnet",
        "fastapi",
        "fastapi_offline",
        "google",
        "graphql",
        "greenlet",
        "h11",
        "harfile",
        "httpcore",
        "httptools",
        "httpx",
        "hypothesis",
        "hypothesis_graphql",
        "idna",
        "iniconfig",
        "jsonschema_rs",
        "librt",
        "mako",
        "markdown_it",
        "markupsafe",
        "mdurl",
        "migrations",
        "mypy",
        "mypy_extensions",
        "mypyc",
        "opentelemetry",
        "packaging",
        "pathspec",
        "pluggy",
        "prometheus_client",
        "py",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "pygments",
        "pyrate_limiter",
        "pytest",
        "pytest_alembic",
        "pytest_asyncio",
        "pytest_cov",
        "pytest_timeout",
        "requests",
        "rich",
        "ruff",
        "schemathesis",
        "sniffio",
        "sortedcontainers",
        "sqlalchemy",
        "starlette",
        "tests",
        "typing_extensions",
        "typing_inspection",
        "urllib3",
        "uvicorn",
        "uvloop",
        "watchfiles",
        "websockets",
        "werkzeug",
        "wrapt",
        "xdist",
        "yaml",
    }
)

# The drivers the rendered code is written and tested for, per dialect.
ASYNC_DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite", "mysql": "asyncmy"}
# Other names users paste for them (hosting providers hand out postgres://).
DIALECT_ALIASES = {"postgres": "postgresql", "mariadb": "mysql"}

_SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def slugify(text: str) -> str:
    """'My Service!' -> 'my-service': ASCII, lowercase, words joined by dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = "-".join(words)
    # A slug must start with a letter to yield an importable package name.
    return slug if slug[:1].isalpha() else f"service-{slug}".rstrip("-")


# Copier prefixes a rejection with "Validation error for question '<name>': " and
# shows it on the bottom line of the prompt, cut at the terminal's width: the
# messages below say the rule first and stay short enough for 80 columns.


def shown(value: object, width: int = 16) -> str:
    """A value as a message quotes it, cut to `width` characters."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def answer_type(question: str, native: str, conf: Mapping[str, Any]) -> str:
    """The `type` of a numeric or true/false question (`conf`: `_copier_conf`).

    `native` (int, float, bool) gives a prompt pre-filled with a plain default and,
    for bool, a yes/no prompt. A value that is not typed at a prompt (--data, or
    a user default with --defaults) is read as `yaml` instead, so that a wrong
    one ('many', 'maybe') reaches the validator, which names the question: as
    an int copier fails inside int() without naming it, and as a bool it reads
    any unknown word as true.
    """
    given = question in conf["data"] or (
        conf["defaults"] and question in conf["user_defaults"]
    )
    return "yaml" if given else native


def text_answer_error(value: str, max_length: int = 200) -> str:
    """Free text is rendered into TOML and Python strings: keep it one plain line."""
    if not value.strip():
        return "must not be empty"
    if len(value) > max_length:
        return f"at most {max_length} characters; got {len(value)}"
    if any(char in value for char in '"\\\n\r'):
        return 'one line, without " or \\'
    return ""


def project_slug_error(slug: str) -> str:
    if _SLUG.match(slug):
        return ""
    return naming_rule_error(slug, "-") or refusal("no - at either end", slug)


# The room a rejection has on the prompt's bottom line after Copier's prefix,
# for the longest question names (12 characters: 80 - 46).
ROOM = 34


def refusal(rule: str, value: object, room: int = ROOM) -> str:
    """`rule; got value`, the value cut to what is left of `room`."""
    return f"{rule}; got {shown(value, max(room - len(rule) - len('; got '), 8))}"


def naming_rule_error(name: str, separator: str) -> str:
    """The first rule of a slug (separator "-") or package name ("_") that
    `name` breaks, with the name; "" if none."""
    if name != name.lower():
        return refusal("lowercase only", name)
    # A package may start with "_" (an identifier), a slug may not.
    if not ("a" <= name[:1] <= "z" or name[:1] == separator == "_"):
        return refusal("start with a-z", name)
    other = "_" if separator == "-" else "-"
    if other in name:
        return refusal(f"use {separator}, not {other}", name)
    if not re.fullmatch(rf"[a-z0-9{separator}]+", name):
        return refusal(f"a-z, 0-9, {separator} only", name)
    if separator == "-" and "--" in name:
        return refusal("no double dash", name)
    return ""


def package_name_error(name: str) -> str:
    if error := naming_rule_error(name, "_"):
        return error
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "is a Python keyword"
    if name in sys.stdlib_module_names:
        return "shadows a standard library module"
    if name in DEPENDENCY_MODULES:
        return "shadows a dependency"
    return ""


def author_email_error(email: str) -> str:
    if _EMAIL.match(email):
        return ""
    return "must look like name@example.com"


def database_url_error(url: str, database: str = "postgresql") -> str:
    """Check the URL as SQLAlchemy's make_url reads it, without needing SQLAlchemy."""
    parts = urlsplit(url)
    given, _, driver = parts.scheme.partition("+")
    dialect = DIALECT_ALIASES.get(given, given)
    if not parts.scheme or "://" not in url:
        return "not a URL: dialect+driver://u@h/db"
    if dialect not in ASYNC_DRIVERS:
        return "use postgresql, sqlite or mysql"
    if dialect != database:
        return f"{dialect} URL; database is {database}"
    expected = ASYNC_DRIVERS[dialect]
    if given != dialect or driver != expected:
        # The whole corrected URL would not fit the prompt's line; its start does.
        return f"begin with {dialect}+{expected}://{'/' if dialect == 'sqlite' else ''}"
    if dialect == "sqlite":
        return _sqlite_url_error(parts.netloc, parts.path)
    if parts.password is not None:
        return "no password here (saved): use .env"
    try:
        _ = parts.port  # urlsplit checks the port lazily, on access
    except ValueError:
        return "has an invalid port"
    if not parts.hostname:
        return "must name a host"
    if not parts.path.strip("/"):
        return "must name a database: host/dbname"
    return ""


def _sqlite_url_error(host: str, path: str) -> str:
    # sqlite+aiosqlite:///relative.db and sqlite+aiosqlite:////absolute.db: no host.
    if host:
        return "SQLite names a file, not a host"
    file = path.removeprefix("/")
    if not file or file == ":memory:":
        # Every pooled connection would get its own empty in-memory database.
        return "must name a database file"
    return ""


LEAVE_OUT_ROOM = 80 - len("Validation error for question 'leave_out': ")


def leave_out_error(value: object) -> str:
    """A list of paths or patterns inside the project, as Copier's _exclude
    reads them (gitignore style)."""
    if not isinstance(value, list) or not all(
        isinstance(path, str) and path.strip() for path in value
    ):
        return refusal("a list of paths", value, LEAVE_OUT_ROOM)
    for path in value:
        if path.startswith("/") or ".." in path.split("/") or "\n" in path:
            return refusal("inside the project", path, LEAVE_OUT_ROOM)
    return ""


def integer_answer_error(
    value: object, minimum: int, maximum: int | None = None
) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be an integer >= {minimum}; got {shown(value)}"
    if value < minimum:
        return f"must be >= {minimum}; got {value}"
    if maximum is not None and value > maximum:
        return f"must be {minimum} to {maximum}; got {value}"
    return ""


def boolean_answer_error(value: object) -> str:
    return "" if isinstance(value, bool) else "must be true or false (yes/no)"


# PostgreSQL's default max_connections (100) minus superuser_reserved_connections (3).
DEFAULT_MAX_CONNECTIONS = 97


def pool_size_error(value: object) -> str:
    # One process alone must not be able to exhaust a default server.
    return integer_answer_error(value, 1, DEFAULT_MAX_CONNECTIONS)


def max_overflow_error(value: object, pool_size: object) -> str:
    """Valid alone, absurd together: one process could exhaust the server."""
    if error := integer_answer_error(value, 0):
        return error
    if isinstance(pool_size, int) and isinstance(value, int):
        allowed = DEFAULT_MAX_CONNECTIONS - pool_size
        if value > allowed:
            rule = f"<= {DEFAULT_MAX_CONNECTIONS} - pool_size = {allowed}"
            return refusal(rule, value)
    return ""


def pool_recycle_error(value: object) -> str:
    if error := integer_answer_error(value, -1):
        return error
    if value == 0:
        return "use -1 (never) or >= 1; got 0"
    return ""


def seconds_answer_error(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be seconds > 0; got {shown(value)}"
    if not value > 0 or value == float("inf"):
        return f"must be seconds > 0; got {value}"
    return ""


def database_name(url: str) -> str:
    """The database a URL names: 'postgresql+asyncpg://u@h/app?ssl=1' -> 'app'."""
    return urlsplit(url).path.lstrip("/")


def sqlite_path(url: str) -> str:
    """The file a SQLite URL names: 'sqlite+aiosqlite:///./app.db' -> './app.db'."""
    return urlsplit(url).path.removeprefix("/")


def async_driver(database: str) -> str:
    """The driver a rendered project uses for the database answer."""
    return ASYNC_DRIVERS[database]


def conflicted_files(project: str | os.PathLike[str]) -> list[str]:
    """The files a `copier update` left conflicted in `project`, for the message
    after it (Copier names none): those merged with conflict markers, which it
    records as unmerged in git's index, and, with `--conflict rej`, those that
    got a `.rej` file of rejected hunks."""

    def git_paths(*arguments: str) -> set[str]:
        listed = subprocess.run(
            ["git", *arguments, "-z"], cwd=project, capture_output=True, check=False
        )
        return {path for path in listed.stdout.decode().split("\0") if path}

    unmerged = git_paths("diff", "--name-only", "--diff-filter=U")
    rejected = git_paths("ls-files", "--others", "--exclude-standard", "*.rej")
    return sorted(unmerged | {path.removesuffix(".rej") for path in rejected})


def is_release(commit: object) -> bool:
    """Whether Copier's `_commit` is a release tag (v1.2.0), not a commit it
    rendered because the template had no tag there ("6f57801",
    "v0.1.0-1-g6f57801")."""
    release = r"v\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?"
    return isinstance(commit, str) and re.fullmatch(release, commit) is not None


def current_year() -> int:
    """For the copyright line of the rendered LICENSE."""
    return datetime.now(UTC).year


# Copier validates an answer given with --data by raising a bare ValueError,
# which its command line does not catch (it catches only its own
# UserMessageError): the user got a 40-line traceback above the one line that
# matters. Copier offers no hook for this, so the extension, loaded before any
# answer is validated, prints such an error as that line alone; the process
# still exits 1, and any other error keeps its traceback.
_ANSWER_REFUSALS = ("Validation error for question ", "Invalid choice for ")


ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]


def print_answer_refusals_alone(previous: ExceptHook) -> ExceptHook:
    def excepthook(
        kind: type[BaseException],
        error: BaseException,
        traceback: TracebackType | None,
    ) -> None:
        if kind is ValueError and str(error).startswith(_ANSWER_REFUSALS):
            print(error, file=sys.stderr)
        else:
            previous(kind, error, traceback)

    excepthook.answer_refusals_alone = True  # type: ignore[attr-defined]
    return excepthook


class AnswersExtension(Extension):
    """Expose the functions above to copier.yml as Jinja filters."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        if not getattr(sys.excepthook, "answer_refusals_alone", False):
            sys.excepthook = print_answer_refusals_alone(sys.excepthook)
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
                "pool_size_error": pool_size_error,
                "max_overflow_error": max_overflow_error,
                "seconds_answer_error": seconds_answer_error,
                "pool_recycle_error": pool_recycle_error,
                "boolean_answer_error": boolean_answer_error,
                "async_driver": async_driver,
                "is_release": is_release,
                "leave_out_error": leave_out_error,
            }
        )
        environment.globals["answer_type"] = answer_type
        environment.globals["current_year"] = current_year
        environment.globals["conflicted_files"] = conflicted_files
