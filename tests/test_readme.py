"""README.md stays true to copier.yml."""

from .readme import END, README, START, answers_reference


def test_answers_reference_matches_copier_yml() -> None:
    readme = README.read_text()

    assert START in readme
    assert END in readme
    assert answers_reference() in readme, "run: uv run python -m tests.readme"
