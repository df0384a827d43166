"""Releases follow from CHANGELOG.md on main; this is the only thing that tags.

A release is a commit that turns `## Unreleased` into `## X.Y.Z (YYYY-MM-DD)`
and sets `version = "X.Y.Z"` in pyproject.toml. `check` refuses a CHANGELOG or
pyproject.toml that disagree; `tag` tags each released version that is newer
than every existing tag, at the commit that added its heading (not at HEAD, which
may be later), and writes its CHANGELOG section as release notes. The workflow
(.github/workflows/release.yml) pushes the tags and makes the GitHub releases.

Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

HEADING = re.compile(r"^## (?P<title>.+)$", re.MULTILINE)
RELEASED = re.compile(r"^(?P<version>\d+\.\d+\.\d+) \((?P<date>\d{4}-\d{2}-\d{2})\)$")
TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


class ReleaseError(Exception):
    """The CHANGELOG, pyproject.toml and tags do not make a valid release."""


@dataclass(frozen=True)
class Release:
    version: str
    notes: str

    @property
    def key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.version.split("."))

    @property
    def tag(self) -> str:
        return f"v{self.version}"


def releases(changelog: str) -> list[Release]:
    """The released versions, newest first; refuses headings out of order."""
    headings = list(HEADING.finditer(changelog))
    found: list[Release] = []
    for index, heading in enumerate(headings):
        title = heading["title"].strip()
        end = headings[index + 1].start() if index + 1 < len(headings) else None
        notes = changelog[heading.end() : end].strip()
        if title == "Unreleased":
            if index != 0:
                raise ReleaseError("## Unreleased must be the first section")
            continue
        match = RELEASED.match(title)
        if match is None:
            raise ReleaseError(f"not a release heading: '## {title}' (X.Y.Z (date))")
        release = Release(match["version"], notes)
        if found and release.key >= found[-1].key:
            raise ReleaseError(
                f"{release.version} is listed below {found[-1].version}: "
                "versions must go down the file"
            )
        found.append(release)
    return found


def check(root: Path) -> list[Release]:
    listed = releases((root / "CHANGELOG.md").read_text())
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    version = pyproject["project"]["version"]
    if not listed:
        raise ReleaseError("CHANGELOG.md lists no release")
    if version != listed[0].version:
        raise ReleaseError(
            f"pyproject.toml says {version}, the newest CHANGELOG release is "
            f"{listed[0].version}: a release sets both"
        )
    return listed


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


def newest_tag(root: Path) -> tuple[int, ...] | None:
    versions = [
        tuple(int(part) for part in match.groups())
        for tag in git(root, "tag", "--list", "v*").split()
        if (match := TAG.match(tag))
    ]
    return max(versions, default=None)


def commit_that_released(root: Path, release: Release) -> str:
    """The first commit whose CHANGELOG.md has this version's heading."""
    commits = git(root, "log", "--reverse", "--format=%H", "-S",
                  f"## {release.version} (", "--", "CHANGELOG.md").split()  # fmt: skip
    if not commits:
        raise ReleaseError(f"no commit added the heading of {release.version}")
    return commits[0]


def tag(root: Path, notes_dir: Path) -> list[str]:
    """Tag the releases newer than every tag; their notes go to notes_dir/TAG.md."""
    listed = check(root)
    newest = newest_tag(root)
    if newest is not None and listed[0].key < newest:
        tagged = ".".join(map(str, newest))
        raise ReleaseError(
            f"the newest release, {listed[0].version}, is older than the tag "
            f"v{tagged}: versions never go backwards"
        )
    made = []
    for release in reversed(listed):  # oldest first, so tags follow history
        if newest is not None and release.key <= newest:
            continue
        commit = commit_that_released(root, release)
        git(root, "tag", "-a", release.tag, commit, "-m", f"Release {release.version}")
        notes_dir.mkdir(parents=True, exist_ok=True)
        (notes_dir / f"{release.tag}.md").write_text(release.notes + "\n")
        made.append(release.tag)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["check", "tag"])
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--notes-dir", type=Path, default=Path("release-notes"))
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "check":
            newest = check(arguments.root)[0]
            print(f"CHANGELOG.md and pyproject.toml agree on {newest.version}")
        else:
            for made in tag(arguments.root, arguments.notes_dir):
                print(made)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
