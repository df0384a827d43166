"""No leftovers of a `copier update`: conflict markers or rejected hunks."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__"}
MARKERS = ("<<<<<<< ", ">>>>>>> ")


def project_files() -> list[Path]:
    return [
        path
        for path in PROJECT_ROOT.rglob("*")
        if path.is_file()
        and not SKIPPED_DIRS.intersection(path.relative_to(PROJECT_ROOT).parts)
        and not any(part.endswith("_cache") for part in path.parts)
    ]


def test_no_conflict_markers_are_left() -> None:
    conflicted = []
    for path in project_files():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        if any(line.startswith(MARKERS) for line in lines):
            conflicted.append(str(path.relative_to(PROJECT_ROOT)))

    assert conflicted == [], f"resolve the conflicts in {conflicted}"


def test_no_rejected_hunks_are_left() -> None:
    rejected = [p for p in project_files() if p.suffix in {".rej", ".orig"}]

    assert rejected == []
