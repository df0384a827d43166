"""Template migrations, run by copier's `_migrations` during `copier update`.

Usage (from copier.yml, in the "before" stage, in the project directory):

    python extensions/migrations.py rename-answer ANSWERS_FILE OLD NEW

Renaming a question would otherwise drop the project's answer to it: copier
would ask again, or, with --defaults, silently use the new default.
"""

import sys
from pathlib import Path

import yaml


def rename_answer(answers_file: Path, old: str, new: str) -> bool:
    """Move the answer recorded under `old` to `new`; True if anything changed."""
    answers = yaml.safe_load(answers_file.read_text()) or {}
    if old not in answers or new in answers:
        return False
    answers[new] = answers.pop(old)
    header = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
    answers_file.write_text(header + yaml.safe_dump(answers, sort_keys=True))
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "rename-answer":
        print(__doc__, file=sys.stderr)
        return 2
    _, answers_file, old, new = argv
    if rename_answer(Path(answers_file), old, new):
        print(f"renamed answer {old!r} to {new!r} in {answers_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
