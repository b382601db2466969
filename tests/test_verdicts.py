"""Verdicts that must not be passes: checks collected but not graded (skipped, xfailed,
lost with a crashed worker), and runs reproduced by their seed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, grade_json

MANIFEST = """\
format_version: 1
defaults: {{timeout: 10, points: 1, start_methods: [fork]}}
exercises:
  - id: exercise-1
    slug: process
    title: {{en: "Run a function in a new process", zh: "在新进程中运行函数"}}
    module: ex01_process
    topic: "Process"
    checks: checks/check_ex01_process.py
    hints: {{en: ["one", "two"], zh: ["一", "二"]}}
"""

CHECKS = '''
import os
import random

import pytest

from grader.check import Call, Plan, Ref, Run


def plan(rng: random.Random) -> Plan:
    return Plan([Call("process", "run_in_process", (Ref("grade_probe.record"), ["t1"]))])


def test_passes(run: Run) -> None:
    run.returned("process")


{body}
'''

NOT_GRADED = {
    "skip": "def test_not_graded(run: Run) -> None:\n    pytest.skip('not today')\n",
    "xfail": "@pytest.mark.xfail(reason='expected to fail')\ndef test_not_graded(run: Run) -> None:\n    assert False\n",
    "worker_crash": "def test_not_graded(run: Run) -> None:\n    os._exit(3)\n",
}


def course_with_check(tmp_path: Path, body: str) -> Path:
    for folder in ("exercises", "solutions"):
        (tmp_path / folder).mkdir()
        shutil.copy(ROOT / folder / "ex01_process.py", tmp_path / folder)
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "check_ex01_process.py").write_text(CHECKS.format(body=body))
    (tmp_path / "exercises.yaml").write_text(MANIFEST.format())
    return tmp_path


@pytest.mark.parametrize("how", sorted(NOT_GRADED))
def test_a_check_that_was_not_graded_makes_its_exercise_an_error(tmp_path: Path, how: str) -> None:
    course = course_with_check(tmp_path, NOT_GRADED[how])
    jobs = ["-j", "2"] if how == "worker_crash" else []
    completed = subprocess.run([sys.executable, "-m", "grader", "--course", str(course), "--solution",
                                "--format", "json", *jobs], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "GRADE_LANG": "en"})
    assert completed.returncode == 1, completed.stderr
    (exercise,) = json.loads(completed.stdout)["exercises"]
    assert exercise["status"] == "error" and exercise["score"] == 0
    checks = {check["name"]: check for check in exercise["checks"]}
    assert checks["test_passes"]["status"] == "passed"
    assert checks["test_not_graded"]["status"] == "error"
    assert "not graded" in checks["test_not_graded"]["message"] or "no result" in checks["test_not_graded"]["message"]


def test_the_seed_is_shown_and_reproduces_the_run(pristine_starters: Path) -> None:
    starter = ("exercise-3", "--start-method", "fork", "--submission", str(pristine_starters))
    first = grade_json(*starter)
    assert isinstance(first["seed"], int)
    again = grade_json(*starter, "--seed", str(first["seed"]))
    assert again["seed"] == first["seed"]

    def verdicts(report: dict) -> list:
        return [(c["name"], c["status"], c["message"]) for c in report["exercises"][0]["checks"]]

    assert verdicts(again) == verdicts(first)


GRADER_FAULT = ("def test_grader_fault(run: Run) -> None:\n    run.returned('process')\n"
                "    raise LookupError('a fault of the check file, not of the submission')\n")
HEADINGS = {"en": ("Output of the grader (a fault of the grader, not of your code):", "Output of your code:"),
            "zh": ("评分程序的输出（这是评分程序自身的故障，不是你的代码的问题）：", "你的代码的输出：")}


@pytest.mark.parametrize("language", sorted(HEADINGS))
def test_a_check_that_raises_shows_the_graders_traceback_as_the_graders(tmp_path: Path, language: str) -> None:
    """A check file raising in the grader's process is a fault of the grader: its traceback
    is shown under a heading that says so, never as the output of the student's code."""
    course = course_with_check(tmp_path, GRADER_FAULT)
    completed = subprocess.run([sys.executable, "-m", "grader", "--course", str(course), "--solution",
                                "--lang", language], capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
    assert completed.returncode == 1, completed.stderr
    graders, yours = HEADINGS[language]
    block = completed.stdout.partition("! test_grader_fault [fork]")[2]
    assert graders in block and yours not in completed.stdout, completed.stdout
    assert "LookupError: a fault of the check file, not of the submission" in block.partition(graders)[2]


@pytest.mark.parametrize("body, said", [("raise LookupError('the check file itself is broken')\n",
                                          "LookupError: the check file itself is broken"),
                                         ("def test_unclosed(run: Run) -> None:\n    print((\n",
                                          "SyntaxError: '(' was never closed")], ids=["raises", "syntax"])
def test_a_check_file_that_cannot_be_imported_leaves_its_exercise_not_graded(tmp_path: Path, body: str,
                                                                            said: str) -> None:
    """Imported from the course under a name of its own, a check file's import error is
    said as such, from the check file's own lines: the exercise is not graded, never passed."""
    course = course_with_check(tmp_path, body)
    completed = subprocess.run([sys.executable, "-m", "grader", "--course", str(course), "--solution",
                                "--format", "json"], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "GRADE_LANG": "en"})
    assert completed.returncode == 1, completed.stderr
    (exercise,) = json.loads(completed.stdout)["exercises"]
    assert exercise["status"] == "error" and exercise["score"] == 0
    assert "could not be loaded" in exercise["message"] and said in exercise["message"]
    assert "check_modules.py" not in exercise["message"]  # the grader's own frames are not the teacher's concern


def test_check_files_of_the_same_name_in_two_folders_are_two_modules(tmp_path: Path) -> None:
    from grader.check_modules import load_check_module

    for folder, value in (("one", 1), ("two", 2)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "check_ex01_process.py").write_text(f"VALUE = {value}\n")
    one, two = (load_check_module(tmp_path / folder / "check_ex01_process.py") for folder in ("one", "two"))
    assert (one.VALUE, two.VALUE) == (1, 2) and one.__name__ != two.__name__
    assert not one.__name__.startswith("grader.") and sys.modules[two.__name__] is two
