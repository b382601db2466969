"""``grade ci --base``: a pull request simulated in a temporary git repository.

The base commit is the course as shipped. The pull request fixes one exercise, breaks
another, and tries to raise its grade by other means: it edits the broken exercise's
check to pass whatever it gets, makes the manifest give more points, or deletes the
manifest and the grader outright. Grading must use the base's checks, manifest and
grader every time, and list what else changed as ignored.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from test_student import make_course

pytestmark = [pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
              pytest.mark.skipif(sys.version_info < (3, 11), reason="python -P (no current folder on sys.path)")]

ALWAYS_PASSES = "def test_everything():\n    pass\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout


def grade_ci(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """``grade ci`` run in the pull request's checkout, by the grader under test (``-P``:
    never the checkout's own copy, which the pull request may have edited or deleted), as
    the workflow runs the base's installed grader there."""
    return subprocess.run([sys.executable, "-P", "-m", "grader", "ci", "--start-method", "fork", "--lang", "en", *args],
                          cwd=repo, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
                          env={**os.environ, "GRADE_LANG": "en", "PYTHONPATH": str(ROOT)})


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A repository whose HEAD is a pull request on the branch ``base``: exercise-1
    solved, exercise-3 broken (a syntax error), exercise-3's check edited to always pass."""
    repo = make_course(tmp_path / "course")
    git(repo, "branch", "base")
    shutil.copyfile(repo / "solutions" / "ex01_process.py", repo / "exercises" / "ex01_process.py")
    (repo / "exercises" / "ex03_queue.py").write_text("def collect(ns:\n", encoding="utf-8")
    (repo / "grader" / "checks" / "check_ex03_queue.py").write_text(ALWAYS_PASSES, encoding="utf-8")
    git(repo, "commit", "-qam", "my work")
    return repo


def exercises(result: subprocess.CompletedProcess) -> dict[str, dict]:
    report = json.loads(result.stdout)
    return {exercise["id"]: exercise for exercise in report["exercises"]}


def test_the_changed_exercises_are_graded_with_the_base_checks(pull_request: Path) -> None:
    result = grade_ci(pull_request, "--base", "base", "--format", "json")
    assert result.returncode == 1, result.stderr
    graded = exercises(result)
    assert sorted(graded) == ["exercise-1", "exercise-3"]  # only the exercise files the pull request changed
    assert graded["exercise-1"]["status"] == "passed"
    assert graded["exercise-1"]["file"] == "exercises/ex01_process.py"
    assert graded["exercise-3"]["status"] == "error"  # its syntax error, whatever its edited check says
    assert "syntax" in graded["exercise-3"]["message"].lower()
    pull = json.loads(result.stdout)["pull_request"]
    assert pull["changed"] == ["exercises/ex01_process.py", "exercises/ex03_queue.py"]
    assert pull["ignored"] == ["grader/checks/check_ex03_queue.py"]
    assert pull["commit"] == git(pull_request, "rev-parse", "base").strip()


def test_an_edited_check_of_a_starter_does_not_make_it_pass(pull_request: Path) -> None:
    """The check of exercise-5 made to pass anything, its starter untouched but for a comment."""
    (pull_request / "grader" / "checks" / "check_ex05_pool_map.py").write_text(ALWAYS_PASSES, encoding="utf-8")
    with (pull_request / "exercises" / "ex05_pool_map.py").open("a", encoding="utf-8") as file:
        file.write("\n# done!\n")
    git(pull_request, "commit", "-qam", "all good")
    graded = exercises(grade_ci(pull_request, "--base", "base", "--format", "json"))
    assert graded["exercise-5"]["status"] == "failed"
    assert "test_everything" not in {check["name"] for check in graded["exercise-5"]["checks"]}


@pytest.mark.parametrize("removed", ["exercises.yaml", "grader"])
def test_a_pull_request_without_manifest_or_grader_is_graded_with_the_base(pull_request: Path, removed: str) -> None:
    git(pull_request, "rm", "-rq", removed)
    git(pull_request, "commit", "-qm", f"no more {removed}")
    result = grade_ci(pull_request, "--base", "base", "--format", "json")
    graded = exercises(result)
    assert graded["exercise-1"]["status"] == "passed", result.stderr
    assert graded["exercise-3"]["status"] == "error"
    ignored = json.loads(result.stdout)["pull_request"]["ignored"]
    assert (removed in ignored) if removed == "exercises.yaml" else "grader/cli.py" in ignored


def test_more_points_in_the_manifest_are_ignored(pull_request: Path) -> None:
    manifest = pull_request / "exercises.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("points: 1", "points: 100"), encoding="utf-8")
    git(pull_request, "commit", "-qam", "generous")
    report = json.loads(grade_ci(pull_request, "--base", "base", "--format", "json").stdout)
    assert report["max_score"] == 2 and report["score"] == 1


def test_uncommitted_and_new_files_count_as_changed(pull_request: Path) -> None:
    shutil.copyfile(pull_request / "solutions" / "ex08_lock.py", pull_request / "exercises" / "ex08_lock.py")
    (pull_request / "notes.txt").write_text("new\n", encoding="utf-8")
    report = json.loads(grade_ci(pull_request, "--base", "base", "--format", "json").stdout)
    assert "exercises/ex08_lock.py" in report["pull_request"]["changed"]
    assert "notes.txt" in report["pull_request"]["ignored"]
    assert {e["id"]: e["status"] for e in report["exercises"]}["exercise-8"] == "passed"


def test_a_symbolic_link_is_not_a_submission(pull_request: Path) -> None:
    """A link to the reference solution (or anywhere) grades as a missing file."""
    target = pull_request / "exercises" / "ex08_lock.py"
    target.unlink()
    target.symlink_to(pull_request / "solutions" / "ex08_lock.py")
    graded = exercises(grade_ci(pull_request, "--base", "base", "--format", "json"))
    assert graded["exercise-8"]["status"] == "error"


def test_nothing_changed_grades_nothing_and_passes(tmp_path: Path) -> None:
    repo = make_course(tmp_path / "course")
    result = grade_ci(repo, "--base", "HEAD")
    assert result.returncode == 0, result.stderr
    assert "changes no exercise file" in result.stdout


def test_an_unknown_base_is_a_usage_error(pull_request: Path) -> None:
    result = grade_ci(pull_request, "--base", "no-such-branch")
    assert result.returncode == 2
    assert "--base no-such-branch: no such commit" in result.stderr
    assert "fetch-depth: 0" in result.stderr


def test_every_format_is_written_in_one_run(pull_request: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = grade_ci(pull_request, "--base", "base", "--format", "github", "--output", str(out / "results.json"),
                      "--output", str(out / "report.xml"), "--output", str(out / "summary.md"),
                      "--output", f"gradescope:{out / 'gradescope.json'}")
    assert result.returncode == 1, result.stderr
    assert sorted(path.name for path in out.iterdir()) == ["gradescope.json", "report.xml", "results.json",
                                                           "summary.md"]
    assert "::warning file=grader/checks/check_ex03_queue.py" in result.stdout
    assert "::error file=exercises/ex03_queue.py,line=1," in result.stdout  # its syntax error's line, read back
    assert "`grader/checks/check_ex03_queue.py`" in (out / "summary.md").read_text(encoding="utf-8")


def test_a_linked_exercises_folder_is_not_a_submission(pull_request: Path, tmp_path: Path) -> None:
    """exercises/ made a link to a folder of solutions: every exercise file is missing."""
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(pull_request / "solutions", elsewhere)
    shutil.rmtree(pull_request / "exercises")
    (pull_request / "exercises").symlink_to(elsewhere)
    graded = exercises(grade_ci(pull_request, "--base", "base", "--all", "--format", "json"))
    assert {exercise["status"] for exercise in graded.values()} == {"error"}
