"""The template's own Python follows the rules it imposes on rendered projects."""

import shutil

import pytest

from .helpers import TEMPLATE_ROOT, run


@pytest.mark.parametrize(
    "command", [["check", "."], ["format", "--check", "."]], ids=["check", "format"]
)
def test_template_python_is_ruff_clean(command: list[str]) -> None:
    ruff = shutil.which("ruff")
    assert ruff is not None, "ruff is one of the template's dev dependencies"

    run([ruff, *command], cwd=TEMPLATE_ROOT)
