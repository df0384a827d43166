"""The repository's own workflows: valid, pinned, and the CI matrix read from the
same tests/samples.json that the template's tests render, so the two cannot
differ."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .helpers import SAMPLES, SAMPLES_FILE, TEMPLATE_ROOT, run

WORKFLOWS = TEMPLATE_ROOT / ".github" / "workflows"
PYTHONS: list[str] = json.loads(SAMPLES_FILE.read_text())["pythons"]


def workflow(name: str) -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found is not None, f"{name} is not on PATH"
    return found


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        (".github/workflows/ci.yml", "vendor.github-workflows"),
        (".github/workflows/release.yml", "vendor.github-workflows"),
        (".github/dependabot.yml", "vendor.dependabot"),
        ("template/.github/dependabot.yml", "vendor.dependabot"),
    ],
)
def test_files_match_their_schemas(path: str, schema: str) -> None:
    run([tool("check-jsonschema"), "--builtin-schema", schema, path],
        cwd=TEMPLATE_ROOT)  # fmt: skip


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_workflows_are_locked_down(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    loaded = workflow(name)

    assert loaded["permissions"] == {"contents": "read"}
    assert "group" in loaded["concurrency"]  # type: ignore[operator]
    for job in loaded["jobs"].values():  # type: ignore[attr-defined]
        assert job["timeout-minutes"] <= 30
    for action in re.findall(r"uses: (\S+)", text):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action


def test_the_matrix_is_every_sample_on_the_oldest_and_newest_python(
    tmp_path: Path,
) -> None:
    # The workflow's own step, run here on the same file.
    jobs = workflow("ci.yml")["jobs"]
    (step,) = [s for s in jobs["matrix"]["steps"] if s.get("id") == "read"]  # type: ignore[index]
    output = tmp_path / "output"
    subprocess.run(["bash", "-euc", step["run"]], cwd=TEMPLATE_ROOT, check=True,
                   env=os.environ | {"GITHUB_OUTPUT": str(output)})  # fmt: skip
    legs = json.loads(output.read_text().removeprefix("legs="))

    expected = [(s, p) for s in SAMPLES for p in PYTHONS] + [("none", PYTHONS[0])]
    assert sorted((leg["sample"], leg["python"]) for leg in legs) == sorted(expected)
    test = jobs["test"]  # type: ignore[index]
    assert test["strategy"]["matrix"] == {
        "include": "${{ fromJSON(needs.matrix.outputs.legs) }}"
    }
    commands = [step.get("run", "") for step in test["steps"]]
    assert 'uv run pytest --sample "$SAMPLE"' in commands


def test_pythons_are_the_oldest_and_newest_the_template_offers() -> None:
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    choices = config["python_version"]["choices"]

    assert [choices[0], choices[-1]] == PYTHONS


def collected(*options: str) -> int:
    completed = subprocess.run(
        ["python", "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "--numprocesses", "0", *options],
        cwd=TEMPLATE_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    match = re.search(r"(\d+)(?:/\d+)? tests? collected", completed.stdout)
    assert match, completed.stdout
    return int(match[1])


def test_the_legs_together_run_what_ci_run_runs() -> None:
    # .ci/run runs the whole suite; each leg a part; no test is in no leg.
    per_leg = {sample: collected("--sample", sample) for sample in [*SAMPLES, "none"]}

    assert all(count > 0 for count in per_leg.values()), per_leg
    assert sum(per_leg.values()) == collected()
    assert re.search(r"^uv run pytest$", (TEMPLATE_ROOT / ".ci/run").read_text(),
                     re.MULTILINE)  # fmt: skip
