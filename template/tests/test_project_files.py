"""No leftovers of a `copier update`.

Conflict markers stop the run before any test (see conftest.py at the root).
"""

from pathlib import Path

from conftest import PROJECT_ROOT, files_with_conflict_markers, project_files


def test_no_rejected_hunks_are_left() -> None:
    rejected = [p for p in project_files(PROJECT_ROOT) if p.suffix in {".rej", ".orig"}]

    assert rejected == []


def test_conflict_markers_are_found_wherever_they_are(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("x = 1\n<<<<<<< before updating\n")
    (tmp_path / "README.md").write_text("fine\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "vendored.py").write_text(">>>>>>> not ours\n")

    assert files_with_conflict_markers(tmp_path) == ["src/app.py"]
