"""Releases: CHANGELOG.md and pyproject.toml agree, and the release script tags
the commits that released, on a scratch repository."""

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.version import Version

from .helpers import TEMPLATE_ROOT, git

SCRIPT = TEMPLATE_ROOT / ".github" / "scripts" / "release.py"
# .github/scripts is no package: load the script by path, as the workflow runs it.
_spec = importlib.util.spec_from_file_location("release", SCRIPT)
assert _spec is not None
assert _spec.loader is not None
release = sys.modules["release"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(release)


def test_changelog_versions_are_pep_440_and_descending() -> None:
    changelog = (TEMPLATE_ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## (.+)$", changelog, re.MULTILINE)

    assert headings[0] == "Unreleased"
    versions = [Version(heading.split(" ")[0]) for heading in headings[1:]]
    assert versions == sorted(versions, reverse=True)
    assert len(set(versions)) == len(versions)


def test_pyproject_has_the_newest_released_version() -> None:
    pyproject = tomllib.loads((TEMPLATE_ROOT / "pyproject.toml").read_text())

    newest = release.releases((TEMPLATE_ROOT / "CHANGELOG.md").read_text())[0]
    assert pyproject["project"]["version"] == newest.version
    assert release.check(TEMPLATE_ROOT)[0] == newest


def commit(
    repo: Path, versions: list[str], pyproject: str, unreleased: str = ""
) -> str:
    """A commit whose CHANGELOG lists these versions, newest first."""
    sections = [f"## Unreleased\n\n{unreleased}\n"] if unreleased else []
    sections += [f"## {v} (2026-11-2{i})\n\n- change {v}\n" for i, v in
                 enumerate(versions)]  # fmt: skip
    (repo / "CHANGELOG.md").write_text("# Changelog\n\n" + "\n".join(sections))
    (repo / "pyproject.toml").write_text(f'[project]\nversion = "{pyproject}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"changelog at {pyproject}")
    return git(repo, "rev-parse", "HEAD")


def run_script(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["python3", SCRIPT, *args, "--root", repo, "--notes-dir", repo / ".notes"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "template"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / ".gitignore").write_text(".notes/\n")
    return repo


def tagged(repo: Path) -> dict[str, str]:
    tags = git(repo, "tag", "--list").split()
    return {tag: git(repo, "rev-list", "-n", "1", tag) for tag in tags}


def test_release_commits_are_tagged_not_the_commits_after_them(repo: Path) -> None:
    first = commit(repo, ["0.1.0"], "0.1.0")
    commit(repo, ["0.1.0"], "0.1.0", unreleased="- work in progress")
    second = commit(repo, ["0.2.0", "0.1.0"], "0.2.0")
    commit(repo, ["0.2.0", "0.1.0"], "0.2.0", unreleased="- after the release")

    made = run_script(repo, "tag")

    assert made.returncode == 0, made.stderr
    assert made.stdout.split() == ["v0.1.0", "v0.2.0"]
    assert tagged(repo) == {"v0.1.0": first, "v0.2.0": second}
    notes = (repo / ".notes" / "v0.2.0.md").read_text()
    assert notes == "- change 0.2.0\n"


def test_nothing_is_tagged_twice_or_without_a_release(repo: Path) -> None:
    commit(repo, ["0.1.0"], "0.1.0")
    assert run_script(repo, "tag").stdout.split() == ["v0.1.0"]
    commit(repo, ["0.1.0"], "0.1.0", unreleased="- more")

    again = run_script(repo, "tag")

    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert list(tagged(repo)) == ["v0.1.0"]


def test_a_version_that_goes_backwards_is_refused(repo: Path) -> None:
    commit(repo, ["0.3.0"], "0.3.0")
    git(repo, "tag", "v0.3.0")
    commit(repo, ["0.2.5"], "0.2.5")

    refused = run_script(repo, "tag")

    assert refused.returncode == 1
    assert "older than the tag v0.3.0" in refused.stderr
    assert list(tagged(repo)) == ["v0.3.0"]


def test_pyproject_must_agree_with_the_changelog(repo: Path) -> None:
    commit(repo, ["0.2.0", "0.1.0"], "0.1.0")

    refused = run_script(repo, "check")

    assert refused.returncode == 1
    assert "pyproject.toml says 0.1.0" in refused.stderr
    assert run_script(repo, "tag").returncode == 1
    assert tagged(repo) == {}


@pytest.mark.parametrize(
    ("changelog", "message"),
    [
        ("## 0.1.0 (2026-11-20)\n\n## 0.2.0 (2026-11-21)\n", "must go down the file"),
        ("## 0.1.0 (2026-11-20)\n\n## Unreleased\n", "must be the first section"),
        ("## 0.2 (2026-11-20)\n", "not a release heading"),
        ("## 0.2.0\n", "not a release heading"),
    ],
)
def test_malformed_changelogs_are_refused(changelog: str, message: str) -> None:
    with pytest.raises(release.ReleaseError, match=message):
        release.releases(changelog)
