"""The answers reference in README.md, generated from copier.yml.

`python -m tests.readme` rewrites the block between the markers;
tests/test_readme.py fails when README.md and copier.yml drift apart.
"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START = "<!-- answers:start (generated from copier.yml: python -m tests.readme) -->"
END = "<!-- answers:end -->"
# `answer_type('pool_size', 'int', ...)`: the type a prompt asks for (the
# numbers and true/false questions read a --data value as yaml, see copier.yml).
ANSWER_TYPE = re.compile(r"answer_type\('\w+', '(\w+)'")


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
        native = ANSWER_TYPE.search(question["type"])
        kind = native[1] if native else question["type"]
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
