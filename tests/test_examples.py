"""Golden example submissions: one folder per example, holding the submission and the
verdict it must get (``expected_results.json``), in the manner of exercism's test runner.

The inputs are drawn with a fixed seed. What is compared is stripped of what varies
from run to run or machine to machine: durations, output, numbers (pids, timings,
totals of a race) and the detail lines of a message; kept are every check's name, start
method and status, and the lines of its message that say what and why.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import ROOT, grade_json

EXAMPLES = ROOT / "tests" / "examples"
SEED = "20261127"
KEPT_PREFIXES = ("Expected:", "Why:", "Likely cause:")
CASES = sorted(path.parent for path in EXAMPLES.glob("ex*/*/ex*.py"))


def normalise_message(message: str) -> list[str]:
    lines = message.splitlines()
    kept = lines[:1] + [line for line in lines[1:] if line.startswith(KEPT_PREFIXES)]
    return [re.sub(r"\d+(\.\d+)?", "N", line) for line in kept]


def normalise(report: dict) -> dict:
    (exercise,) = report["exercises"]
    return {
        "status": exercise["status"],
        "score": exercise["score"],
        "checks": [{"name": check["name"], "start_method": check["start_method"], "status": check["status"],
                    "message": normalise_message(check["message"]) if check["status"] != "passed" else []}
                   for check in exercise["checks"]],
    }


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_example(case: Path, request: pytest.FixtureRequest) -> None:
    (submission,) = case.glob("ex*.py")
    expected_file = case / "expected_results.json"
    got = normalise(grade_json("--submission", str(submission), "--seed", SEED))
    if request.config.getoption("--update-goldens"):
        expected_file.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not expected_file.exists():
        pytest.fail(f"{expected_file} is missing: run pytest --update-goldens, then review the file")
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    assert got == expected
    declared = submission.read_text(encoding="utf-8").splitlines()[0]
    verdict = re.match(r"# expect: (\w+)", declared)
    assert verdict, f"{submission} must start with '# expect: <verdict>'"
    assert got["status"] == verdict.group(1), f"{submission}: {declared}"
