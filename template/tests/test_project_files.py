"""No leftovers of a `copier update`.

Conflict markers stop the run before any test (see conftest.py at the root).
"""

from pathlib import Path

from conftest import PROJECT_ROOT, files_with_conflict_markers, project_files


def rejected_hunks(root: Path) -> list[str]:
    """What a patch that did not apply leaves: .rej and .orig files."""
    return sorted(
        str(path.relative_to(root))
        for path in project_files(root)
        if path.suffix in {".rej", ".orig"}
    )


def test_no_update_left_rejected_hunks_in_the_project() -> None:
    assert rejected_hunks(PROJECT_ROOT) == []


def test_rejected_hunks_are_found_wherever_they_are(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py.rej").write_text("@@ -1 +1 @@\n")
    (tmp_path / "README.md.orig").write_text("before\n")
    (tmp_path / "src" / "app.py").write_text("x = 1\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "vendored.py.rej").write_text("not ours\n")

    assert rejected_hunks(tmp_path) == ["README.md.orig", "src/app.py.rej"]


def test_conflict_markers_are_found_wherever_they_are(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("x = 1\n<<<<<<< before updating\n")
    (tmp_path / "README.md").write_text("fine\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "vendored.py").write_text(">>>>>>> not ours\n")

    assert files_with_conflict_markers(tmp_path) == ["src/app.py"]
