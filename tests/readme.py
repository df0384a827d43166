"""The answers reference in README.md, generated from copier.yml.

`python -m tests.readme` rewrites the block between the markers;
tests/test_readme.py fails when README.md and copier.yml drift apart.
"""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START = "<!-- answers:start (generated from copier.yml: python -m tests.readme) -->"
END = "<!-- answers:end -->"
# copier.yml types shown to users: the numeric and boolean questions are `yaml`
# only so that their validators can name the question on a wrong value.
SHOWN_TYPES = {"pool_size": "int", "max_overflow": "int", "pool_recycle": "int",
               "pool_timeout": "float", "pool_pre_ping": "bool",
               "echo_sql": "bool"}  # fmt: skip


def _cell(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def _default(value: object) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str) and "{{" in value:
        return f"derived: `{_cell(value)}`"
    return f"`{_cell(value)}`"


def answers_reference() -> str:
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    rows = ["| Question | Type | Default | Help |", "|---|---|---|---|"]
    for name, question in config.items():
        if name.startswith("_"):
            continue
        kind = SHOWN_TYPES.get(name, question["type"])
        if "choices" in question:
            kind = "choice: " + ", ".join(f"`{c}`" for c in question["choices"])
        rows.append(
            f"| `{name}` | {kind} | {_default(question['default'])} "
            f"| {_cell(question['help'])} |"
        )
    return "\n".join([START, *rows, END])


def with_reference(readme: str) -> str:
    before, _, rest = readme.partition(START)
    _, _, after = rest.partition(END)
    return before + answers_reference() + after


if __name__ == "__main__":
    README.write_text(with_reference(README.read_text()))
