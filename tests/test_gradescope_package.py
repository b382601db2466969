"""``grade gradescope-package``: the autograder zip, its ``setup.sh``'s check of the
walls, and its ``run_autograder`` run against a fake ``/autograder`` tree
(``$AUTOGRADER_ROOT``) with a right, a wrong, a hanging and an empty submission, and on
a machine without walls. The wrong submission is a starter as the package ships it, so
what a student has done to ``exercises/`` changes no result."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from test_student import make_course

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

SPINS = "def collect(ns):\n    while True:\n        pass\n"


def build_autograder(course: Path, folder: Path) -> Path:
    """The package of ``course``, unzipped as Gradescope unzips it into /autograder/source:
    ``folder/autograder``."""
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


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package of a course copy, unzipped as Gradescope unzips it."""
    folder = tmp_path_factory.mktemp("package")
    return build_autograder(make_course(folder / "course"), folder)


def shipped_starter(autograder: Path, module: str) -> str:
    """A wrong submission: the starter ``module`` as the autograder's course has it, the
    course as committed (never a working tree's exercises/, which a student edits)."""
    return (autograder / "source" / "course" / "exercises" / f"{module}.py").read_text(encoding="utf-8")


def grade_upload(autograder: Path, files: dict[str, str | bytes], **env: str) -> dict:
    submission = autograder / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    shutil.rmtree(autograder / "results", ignore_errors=True)
    submission.mkdir()
    for name, content in files.items():
        target = submission / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    env = {**os.environ, "AUTOGRADER_ROOT": str(autograder), "AUTOGRADER_PYTHON": sys.executable,
           "GRADE_LANG": "en", "PYTHONPATH": "", **env}
    done = subprocess.run(["bash", str(autograder / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=600)
    results = autograder / "results" / "results.json"
    assert results.is_file(), done.stderr[-3000:]
    return json.loads(results.read_text(encoding="utf-8"))


def by_exercise(results: dict) -> dict[str, dict]:
    return {test["tags"][0]: test for test in results["tests"]}


def test_setup_is_a_valid_script(autograder: Path) -> None:
    assert subprocess.run(["bash", "-n", str(autograder / "source" / "setup.sh")]).returncode == 0


def isolation_check(autograder: Path) -> list[str]:
    """The command of ``setup.sh`` that checks the walls once the grader is installed, run
    with this interpreter rather than the image's."""
    lines = (autograder / "source" / "setup.sh").read_text(encoding="utf-8").splitlines()
    installed = next(number for number, line in enumerate(lines) if "pip install" in line)
    (check,) = [line for line in lines[installed + 1:] if "--check-isolation" in line]
    return shlex.split(check.replace("/autograder/venv/bin/python", shlex.quote(sys.executable)))


@pytest.mark.parametrize("walls", ["up", "refused"])
def test_setup_fails_the_build_of_an_image_without_walls(autograder: Path, walls: str) -> None:
    """setup.sh (run as root when Gradescope builds the image) checks, once the grader is
    installed, that submissions could be graded there: the walls up, or the build fails
    saying why (grading would refuse every submission)."""
    assignment, *command = isolation_check(autograder)
    assert assignment == "GRADE_REQUIRE_ISOLATION=1"
    env = {**os.environ, "GRADE_LANG": "en", "PYTHONPATH": "", "GRADE_REQUIRE_ISOLATION": "1"}
    if walls == "refused":
        env["GRADE_ISOLATION"] = "process"  # neither bubblewrap nor Landlock
    done = subprocess.run(command, cwd=autograder / "source" / "course", env=env, capture_output=True, text=True,
                          timeout=120)
    if walls == "up":
        assert done.returncode == 0, done.stderr
        assert "submissions can be graded in this image" in done.stdout
        assert "process-level sandbox only" not in done.stdout
    else:
        assert done.returncode != 0
        assert "GRADE_REQUIRE_ISOLATION is set, and neither bubblewrap" in done.stderr
        assert "would refuse every submission" in done.stderr


def test_a_right_submission_scores_its_exercises(autograder: Path) -> None:
    solutions = Path(__file__).resolve().parents[1] / "solutions"
    results = grade_upload(autograder, {"exercises/ex01_process.py": (solutions / "ex01_process.py").read_text(),
                                        "ex03_queue.py": (solutions / "ex03_queue.py").read_text(),
                                        "Ex05_Pool_Map.py": (solutions / "ex05_pool_map.py").read_text()})
    tests = by_exercise(results)
    assert tests["exercise-1"]["status"] == "passed" and tests["exercise-3"]["status"] == "passed"
    assert results["score"] == 2 and results["max_score"] == 10
    assert tests["exercise-2"]["output"].startswith("No file ex02_main_guard.py.")  # not the scratch copy's path
    # A file named almost right (as uploads from some systems are): said, with what to rename it to.
    assert "Ex05_Pool_Map.py" in tests["exercise-5"]["output"] and "ex05_pool_map.py" in tests["exercise-5"]["output"]


def assert_a_wrong_and_a_hanging_submission_score_nothing(autograder: Path) -> None:
    results = grade_upload(autograder, {"ex08_lock.py": shipped_starter(autograder, "ex08_lock"),
                                        "ex03_queue.py": SPINS})
    tests = by_exercise(results)
    assert results["score"] == 0
    assert tests["exercise-8"]["status"] == "failed" and tests["exercise-3"]["status"] == "failed"
    assert "limit" in tests["exercise-3"]["output"] or "stopped" in tests["exercise-3"]["output"]


def test_a_wrong_and_a_hanging_submission_score_nothing(autograder: Path) -> None:
    assert_a_wrong_and_a_hanging_submission_score_nothing(autograder)


def test_a_solved_exercise_in_the_course_changes_no_result(tmp_path: Path) -> None:
    """The wrong submission is the starter as committed: a course whose exercises/ex08_lock.py
    a student has solved (not committed) gives the same result."""
    course = make_course(tmp_path / "course")
    shutil.copyfile(course / "solutions" / "ex08_lock.py", course / "exercises" / "ex08_lock.py")
    assert_a_wrong_and_a_hanging_submission_score_nothing(build_autograder(course, tmp_path))


def test_a_machine_without_walls_gives_0_of_the_course_and_says_why(autograder: Path) -> None:
    """Fail closed (GRADE_REQUIRE_ISOLATION, set by run_autograder): nothing is graded, and
    every student sees 0 out of the course's points with the reason, not 0/0."""
    solutions = Path(__file__).resolve().parents[1] / "solutions"
    results = grade_upload(autograder, {"ex01_process.py": (solutions / "ex01_process.py").read_text()},
                           GRADE_ISOLATION="process", GRADE_REQUIRE_ISOLATION="1")
    assert results["score"] == 0 and results["max_score"] == 10 and results["tests"] == []
    assert "refused to grade" in results["output"] and "neither bubblewrap" in results["output"]
    assert "not a fault of your submission" in results["output"]


def test_an_upload_without_exercise_files_gets_a_result_that_says_so(autograder: Path) -> None:
    results = grade_upload(autograder, {"notes.txt": "hello"})
    assert results["score"] == 0 and results["max_score"] == 10 and results["tests"] == []
    assert "could not be read" in results["output"]
