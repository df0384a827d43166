"""Runs before the tests import anything of the application.

`copier update` leaves inline conflict markers where the template and the
project changed the same lines, and still exits 0. A marker inside a module the
tests import is a SyntaxError that stops the run without saying why; this
stops it first and names the files (pytest imports this file before
tests/conftest.py).
"""

import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__"}
MARKERS = ("<<<<<<< ", ">>>>>>> ")


def project_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [
            name
            for name in subdirectories
            if name not in SKIPPED_DIRS and not name.endswith("_cache")
        ]
        found.extend(Path(directory, name) for name in files)
    return found


def files_with_conflict_markers(root: Path) -> list[str]:
    conflicted = []
    for path in project_files(root):
        try:
            content = path.read_bytes()
        except OSError:  # gone meanwhile, or unreadable: not ours to judge
            continue
        lines = content.decode("utf-8", errors="replace").splitlines()
        if any(line.startswith(MARKERS) for line in lines):
            conflicted.append(str(path.relative_to(root)))
    return sorted(conflicted)


if conflicted := files_with_conflict_markers(PROJECT_ROOT):
    sys.exit(
        "copier update left conflict markers (<<<<<<< / >>>>>>>) in: "
        + ", ".join(conflicted)
        + "\nKeep the right lines, delete the markers, then run the tests again."
    )
