"""``grade gradescope-package``: the autograder zip, and its ``run_autograder`` run
against a fake ``/autograder`` tree (``$AUTOGRADER_ROOT``) with a right, a wrong, a
hanging and an empty submission."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from test_student import make_course

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

SPINS = "def collect(ns):\n    while True:\n        pass\n"


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package of a course copy, unzipped as Gradescope unzips it into /autograder/source."""
    folder = tmp_path_factory.mktemp("package")
    course = make_course(folder / "course")
    package = folder / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope-package", str(package)], cwd=course,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    source = folder / "autograder" / "source"
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "course/exercises.yaml", "course/grader/cli.py"} <= set(names)
        assert not [name for name in names if name.startswith(("course/solutions/", "course/tests/"))]
        assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111
        archive.extractall(source)
    for name in ("setup.sh", "run_autograder"):
        (source / name).chmod(0o755)
    return folder / "autograder"


def grade_upload(autograder: Path, files: dict[str, str | bytes]) -> dict:
    submission = autograder / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    shutil.rmtree(autograder / "results", ignore_errors=True)
    submission.mkdir()
    for name, content in files.items():
        target = submission / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    env = {**os.environ, "AUTOGRADER_ROOT": str(autograder), "AUTOGRADER_PYTHON": sys.executable,
           "GRADE_LANG": "en", "PYTHONPATH": ""}
    done = subprocess.run(["bash", str(autograder / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=600)
    results = autograder / "results" / "results.json"
    assert results.is_file(), done.stderr[-3000:]
    return json.loads(results.read_text(encoding="utf-8"))


def by_exercise(results: dict) -> dict[str, dict]:
    return {test["tags"][0]: test for test in results["tests"]}


def test_setup_is_a_valid_script(autograder: Path) -> None:
    assert subprocess.run(["bash", "-n", str(autograder / "source" / "setup.sh")]).returncode == 0


def test_a_right_submission_scores_its_exercises(autograder: Path) -> None:
    solutions = Path(__file__).resolve().parents[1] / "solutions"
    results = grade_upload(autograder, {"exercises/ex01_process.py": (solutions / "ex01_process.py").read_text(),
                                        "ex03_queue.py": (solutions / "ex03_queue.py").read_text()})
    tests = by_exercise(results)
    assert tests["exercise-1"]["status"] == "passed" and tests["exercise-3"]["status"] == "passed"
    assert results["score"] == 2 and results["max_score"] == 10
    assert tests["exercise-2"]["output"].startswith("No file ex02_main_guard.py.")  # not the scratch copy's path


def test_a_wrong_and_a_hanging_submission_score_nothing(autograder: Path) -> None:
    course_starters = Path(__file__).resolve().parents[1] / "exercises"
    results = grade_upload(autograder, {"ex08_lock.py": (course_starters / "ex08_lock.py").read_text(),
                                        "ex03_queue.py": SPINS})
    tests = by_exercise(results)
    assert results["score"] == 0
    assert tests["exercise-8"]["status"] == "failed" and tests["exercise-3"]["status"] == "failed"
    assert "limit" in tests["exercise-3"]["output"] or "stopped" in tests["exercise-3"]["output"]


def test_an_upload_without_exercise_files_gets_a_result_that_says_so(autograder: Path) -> None:
    results = grade_upload(autograder, {"notes.txt": "hello"})
    assert results["score"] == 0 and results["max_score"] == 10 and results["tests"] == []
    assert "could not be read" in results["output"]
