"""`copier update` on a project its team has changed: nothing of theirs is lost.

Each test works on a scratch clone of the template with scratch tags: the
project is rendered at v0.1.0, committed and edited as a team would, then the
template changes, is tagged v0.2.0, and the project is updated.
"""

import contextlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from copier import run_copy, run_update

from .helpers import (
    TEMPLATE_ROOT,
    copy_of_the_template,
    git,
    run_rendered_suite,
    sync_into_shared_venv,
)

PACKAGE = Path("src/my_service")
INITIAL_MIGRATION = Path("migrations/versions/2026_11_23_0001_users_and_orders.py")

INVOICE_MODEL = """\
import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Entity


class Invoice(Entity):
    __tablename__ = "invoices"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[int]
"""

INVOICE_MIGRATION = '''\
"""add invoices

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_invoices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
    )
    op.create_index(op.f("ix_invoices_user_id"), "invoices", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_invoices_user_id"), table_name="invoices")
    op.drop_table("invoices")
'''


def commit_all(repo: Path, message: str, tag: str | None = None) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    if tag:
        git(repo, "tag", tag)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def scratch_clone(destination: Path, message: str, tag: str | None = None) -> Path:
    """The template's working tree, committed (and tagged) in a new repository."""
    copy_of_the_template(destination)
    git(destination, "init", "-q")
    commit_all(destination, message, tag=tag)
    return destination


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A scratch clone of the template's working tree, tagged v0.1.0."""
    return scratch_clone(tmp_path / "template", "release 0.1.0", tag="v0.1.0")


def render_project(template: Path, destination: Path, **answers: object) -> Path:
    run_copy(str(template), str(destination), data=answers, defaults=True,
             unsafe=True, vcs_ref="v0.1.0", quiet=True)  # fmt: skip
    git(destination, "init", "-q")
    commit_all(destination, "generated from the template")
    return destination


def update(project: Path, vcs_ref: str | None = None, **answers: object) -> str:
    """Update as `copier update --trust --defaults` does; what Copier printed."""
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        run_update(str(project), data=answers, defaults=True, overwrite=True,
                   unsafe=True, vcs_ref=vcs_ref)  # fmt: skip
    return printed.getvalue()


def message_after_update(printed: str) -> list[str]:
    """The lines of copier.yml's _message_after_update in what Copier printed."""
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Updated to"))
    return lines[start:]


def make_team_edits(project: Path) -> None:
    """What a team does to a fresh service: its own model, migration and words."""
    (project / PACKAGE / "models" / "invoice.py").write_text(INVOICE_MODEL)
    edit(project / PACKAGE / "models" / "__init__.py",
         "from .order import Order\n",
         "from .invoice import Invoice\nfrom .order import Order\n")  # fmt: skip
    edit(project / PACKAGE / "models" / "__init__.py",
         '["Order", "User"]', '["Invoice", "Order", "User"]')  # fmt: skip
    migration = project / "migrations" / "versions" / "2026_12_01_0002_add_invoices.py"
    migration.write_text(INVOICE_MIGRATION)
    edit(project / PACKAGE / "api" / "users.py",
         'summary="Create a user"', 'summary="Register a customer"')  # fmt: skip
    with (project / "README.md").open("a") as readme:
        readme.write("\n## Team notes\n\nInvoices are in cents.\n")
    commit_all(project, "add invoices")


def release_template_change(template: Path) -> None:
    """v0.2.0: a new default, a README line, a new file, a touched old migration."""
    edit(template / "template" / "src" / "{{package_name}}" / "config.py.jinja",
         "health_check_timeout: float = Field(default=2.0, gt=0)",
         "health_check_timeout: float = Field(default=3.0, gt=0)")  # fmt: skip
    edit(template / "template" / "README.md.jinja",
         "An async FastAPI service on SQLAlchemy 2 (asyncio, asyncpg)",
         "An async FastAPI service on SQLAlchemy 2.1 (asyncio, asyncpg)")  # fmt: skip
    (template / "template" / "CONTRIBUTING.md").write_text("# Contributing\n")
    with (template / "template" / INITIAL_MIGRATION).open("a") as migration:
        migration.write("# a template edit that must never reach projects\n")
    commit_all(template, "release 0.2.0", tag="v0.2.0")


def files_with_conflict_markers(project: Path) -> list[str]:
    return sorted(
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file()
        and ".git" not in path.parts
        and any(
            line.startswith(("<<<<<<< ", ">>>>>>> "))
            for line in path.read_text(errors="replace").splitlines()
        )
    )


@pytest.mark.generated  # it installs the updated project and runs its suite
def test_update_keeps_team_edits_and_applies_template_changes(
    template: Path, tmp_path: Path, uv: str, shared_venv: Path, postgres: object
) -> None:
    project = render_project(template, tmp_path / "service")
    make_team_edits(project)
    kept = {
        path: (project / path).read_bytes()
        for path in (
            PACKAGE / "models" / "invoice.py",
            PACKAGE / "models" / "__init__.py",
            Path("migrations/versions/2026_12_01_0002_add_invoices.py"),
            INITIAL_MIGRATION,
        )
    }
    release_template_change(template)

    printed = update(project)

    message = message_after_update(printed)
    assert message[:2] == [
        "Updated to the template's v0.2.0.",
        "No conflicts: the template's changes merged with yours. Then:",
    ], printed
    for path, content in kept.items():
        assert (project / path).read_bytes() == content, path
    users_api = (project / PACKAGE / "api" / "users.py").read_text()
    assert 'summary="Register a customer"' in users_api
    readme = (project / "README.md").read_text()
    assert readme.endswith("## Team notes\n\nInvoices are in cents.\n")
    assert "on SQLAlchemy 2.1 (asyncio, asyncpg)" in readme
    config = (project / PACKAGE / "config.py").read_text()
    assert "Field(default=3.0, gt=0)" in config
    assert (project / "CONTRIBUTING.md").is_file()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.2.0"
    assert files_with_conflict_markers(project) == []
    assert list(project.rglob("*.rej")) == []

    # And the updated project, with the team's model and migration, still passes.
    env = sync_into_shared_venv(project, uv, shared_venv)
    run_rendered_suite(project, env)  # the fault tier ran in the samples


def test_a_conflicting_edit_shows_inline_markers_and_fails_the_tests(
    template: Path, tmp_path: Path
) -> None:
    project = render_project(template, tmp_path / "service")
    config = project / PACKAGE / "config.py"
    edit(config, "Field(default=2.0, gt=0)", "Field(default=5.0, gt=0)")
    commit_all(project, "our own health timeout")
    release_template_change(template)

    printed = update(project)

    text = config.read_text()
    assert files_with_conflict_markers(project) == [str(PACKAGE / "config.py")]
    # The message names the file (Copier itself prints nothing about it), and
    # every line fits an 80-column terminal.
    message = message_after_update(printed)
    assert message[1].startswith("Conflicts: the template and your edits changed")
    assert message[2] == f"  {PACKAGE / 'config.py'}"
    assert "Copier wrote both sides" in message[3]
    assert max(map(len, message)) <= 80, message
    assert "Field(default=5.0, gt=0)" in text  # ours, not dropped
    assert "Field(default=3.0, gt=0)" in text  # theirs, shown beside it
    assert "UU" in git(project, "status", "--porcelain")


def test_the_rendered_suite_stops_naming_conflicted_files_before_importing(
    tmp_path: Path,
) -> None:
    # A marker in a module the tests import would be a bare SyntaxError; the
    # project's root conftest.py must report it first.
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    shutil.copy(TEMPLATE_ROOT / "template" / "conftest.py", project / "conftest.py")
    (project / "tests" / "__init__.py").write_text("")
    (project / "tests" / "conftest.py").write_text(
        "import json\n<<<<<<< before updating\nx = 1\n=======\n>>>>>>> after\n"
    )
    (project / "tests" / "test_nothing.py").write_text("def test_x():\n    pass\n")
    (project / "notes.md").write_text("ok\n>>>>>>> after updating\n")

    completed = subprocess.run(
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 1
    assert "SyntaxError" not in completed.stdout + completed.stderr
    assert "conflict markers" in completed.stderr
    assert "notes.md, tests/conftest.py" in completed.stderr


def test_changing_an_answer_re_renders_settings_only(
    template: Path, tmp_path: Path
) -> None:
    project = render_project(template, tmp_path / "service")
    make_team_edits(project)
    invoice = (project / PACKAGE / "models" / "invoice.py").read_bytes()

    run_update(str(project), data={"pool_size": 20}, defaults=True, overwrite=True,
               unsafe=True, quiet=True, vcs_ref="v0.1.0")  # fmt: skip

    config = (project / PACKAGE / "config.py").read_text()
    assert "database_pool_size: int = Field(default=20, ge=1)" in config
    assert "DATABASE_POOL_SIZE=20\n" in (project / ".env.example").read_text()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["pool_size"] == 20
    assert (project / PACKAGE / "models" / "invoice.py").read_bytes() == invoice
    assert (
        'summary="Register a customer"'
        in (project / PACKAGE / "api" / "users.py").read_text()
    )
    assert files_with_conflict_markers(project) == []


def test_a_renamed_question_keeps_the_projects_answer(
    template: Path, tmp_path: Path
) -> None:
    project = render_project(template, tmp_path / "service", echo_sql=True)
    # v0.2.0 renames echo_sql to sql_echo, with a migration that moves the answer.
    for path in [template / "copier.yml", *template.glob("template/**/*.jinja")]:
        path.write_text(path.read_text().replace("echo_sql", "sql_echo"))
    rename = """_migrations:
  - version: v0.2.0
    when: "{{ _stage == 'before' }}"
    command:
      - "{{ _copier_python }}"
      - "{{ _copier_conf.src_path }}/extensions/migrations.py"
      - rename-answer
      - "{{ _copier_conf.answers_file }}"
      - echo_sql
      - sql_echo"""
    edit(template / "copier.yml", "_migrations: []", rename)
    commit_all(template, "rename echo_sql to sql_echo", tag="v0.2.0")

    update(project)

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert "echo_sql" not in answers
    assert answers["sql_echo"] is True  # the project's answer, not the default
    assert "database_echo: bool = True" in (project / PACKAGE / "config.py").read_text()


def test_a_project_rendered_before_any_release_is_told_how_to_update(
    tmp_path: Path,
) -> None:
    # A clone without tags (they do not travel with main): Copier renders the
    # newest commit. The release workflow tags an older commit later.
    clone = scratch_clone(tmp_path / "template", "what will be released as 0.1.0")
    readme = clone / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nA change after it.\n")
    commit_all(clone, "a change after it, not released yet")
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        run_copy(str(clone), str(tmp_path / "service"), defaults=True, unsafe=True)
    project = tmp_path / "service"
    git(project, "init", "-q")
    commit_all(project, "generated from the template")
    rendered_from = yaml.safe_load((project / ".copier-answers.yml").read_text())
    git(clone, "tag", "v0.1.0", "HEAD~1")

    # The message after the copy said what to do, and why.
    assert f"Rendered from commit {rendered_from['_commit']}, which is no release" in (
        printed.getvalue()
    )
    assert "copier update --trust --defaults --vcs-ref HEAD" in printed.getvalue()
    # A plain update is refused: the newest release is older than the project.
    with pytest.raises(Exception, match="Downgrades are not supported"):
        update(project)
    # What the message says works, and brings a later template change.
    readme.write_text(readme.read_text() + "\nA later change.\n")
    commit_all(clone, "a later change")
    message = message_after_update(update(project, vcs_ref="HEAD"))

    assert (project / "README.md").read_text().endswith("A later change.\n")
    assert message[1] == (
        "That is no release: until a newer one is tagged, keep --vcs-ref HEAD."
    )


def test_a_deleted_part_stays_deleted_once_left_out(
    template: Path, tmp_path: Path
) -> None:
    project = render_project(template, tmp_path / "service")
    shutil.rmtree(project / "deploy" / "grafana")
    commit_all(project, "we run no Grafana")
    dashboards = template / "template" / "deploy" / "grafana" / "dashboards"

    def release_dashboard_changes(tag: str) -> None:
        """A change to the deleted dashboard, and a new one beside it."""
        edit(dashboards / "service.json.jinja", '"editable": true,',
             f'"editable": true,\n  "version": "{tag}",')  # fmt: skip
        (dashboards / f"pool-{tag}.json").write_text("{}\n")
        commit_all(template, "dashboard changes", tag=tag)

    release_dashboard_changes("v0.2.0")
    update(project)
    # What Copier 9 does on its own: the changed file stays deleted (it did
    # not before copier-org/copier#1735), a new file in the deleted part
    # comes back.
    grafana = project / "deploy" / "grafana"
    assert not (grafana / "dashboards" / "service.json").exists()
    assert (grafana / "dashboards" / "pool-v0.2.0.json").is_file()
    git(project, "reset", "-q", "--hard")
    git(project, "clean", "-qfd")

    # One answer keeps the part out; with it, bench/ (and its test), which the
    # team never touched: the update deletes those.
    update(project, leave_out=["deploy/grafana", "bench", "tests/test_bench.py"])
    commit_all(project, "update, leaving out what we do without")
    release_dashboard_changes("v0.3.0")
    update(project)  # later updates need no --data: the answer is recorded

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.3.0"
    assert answers["leave_out"] == ["deploy/grafana", "bench", "tests/test_bench.py"]
    assert not grafana.exists()
    assert not (project / "bench").exists()
    assert not (project / "tests" / "test_bench.py").exists()
    assert (project / "deploy" / "prometheus" / "prometheus.yml").is_file()
