"""``grade check`` on copies of the course (their own grader, run as a teacher runs it):
a sound course passes, and each kind of problem is caught, named with its exercise, its
file and its fix. Exercise-1 only (the fastest to grade), two runs or one."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TEST_LANGUAGE
from test_student import make_course

EXAMPLES = Path("tests") / "examples" / "ex01_process"
GOLDENS = ("correct_context_close", "wrong_returns_join")
# A check that fails every second time it grades a submission (counted per submission in
# a folder of the test's), whatever the submission does: the flakiness grade check must see.
FLAKY_CHECK = '''

def test_flaky_on_purpose(request):
    import hashlib
    from pathlib import Path

    submission = next(item.partition("=")[2] for item in request.config.getoption("grade_submission")
                      if item.startswith("ex01_process="))
    counter = Path({counters!r}) / hashlib.sha256(submission.encode()).hexdigest()
    count = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(count))
    assert count % 2, "fails every second run, on purpose"
'''


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """The course with two of exercise-1's golden examples (no git: the working tree is what ships)."""
    folder = make_course(tmp_path / "course", git=False)
    for case in GOLDENS:
        shutil.copytree(ROOT / EXAMPLES / case, folder / EXAMPLES / case)
    return folder


def check(course: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "check", *args], cwd=course, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL,
                          env={**os.environ, **TEST_LANGUAGE, **(env or {})})


def check_json(course: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    completed = check(course, "--format", "json", *args, env=env)
    assert completed.stdout, completed.stderr
    return completed.returncode, json.loads(completed.stdout)


def test_a_sound_course_passes(course: Path) -> None:
    code, document = check_json(course, "exercise-1", "--runs", "2")
    assert code == 0, document["problems"]
    assert document["schema"] == "grade-check/1" and document["status"] == "passed" and document["runs"] == 2
    assert document["exercises"] == ["exercise-1"] and document["problems"] == []
    kinds = {(s["kind"], s["file"]): s for s in document["submissions"]}
    assert set(kinds) == {("solution", "solutions/ex01_process.py"), ("starter", "exercises/ex01_process.py"),
                          *(("golden", f"{EXAMPLES}/{case}/ex01_process.py") for case in GOLDENS)}
    assert kinds["solution", "solutions/ex01_process.py"]["verdicts"] == {"passed": 2}
    assert kinds["golden", f"{EXAMPLES}/wrong_returns_join/ex01_process.py"]["verdicts"] == {"failed": 2}
    for submission in document["submissions"]:
        assert len(set(submission["seeds"])) == 2 and submission["flaky_checks"] == []  # new inputs each run
    assert [(row["checked"], row["result"], row["as_expected"], row["runs"]) for row in document["summary"]] == [
        ("manifest, catalogues, stray files", "ok", None, None), ("files, hints", "ok", None, None),
        ("solution", "ok", 2, 2), ("starter", "ok", 2, 2), ("2 golden examples", "ok", 4, 4)]
    code, in_processes = check_json(course, "1", "--runs", "1", "-j", "2")  # rounds graded in two processes
    assert code == 0 and in_processes["jobs"] == 2, in_processes["problems"]
    assert sorted(s["runs"] for s in in_processes["submissions"]) == [1, 1, 1, 1]


def test_a_flaky_check_is_caught_with_its_rate_and_seeds(course: Path, tmp_path: Path) -> None:
    shutil.rmtree(course / "tests")
    (tmp_path / "counters").mkdir()
    with open(course / "grader" / "checks" / "check_ex01_process.py", "a", encoding="utf-8") as file:
        file.write(FLAKY_CHECK.format(counters=str(tmp_path / "counters")))
    code, document = check_json(course, "1", "--runs", "2")
    assert code == 1
    flaky = [problem for problem in document["problems"] if problem["kind"] == "flaky"]
    assert {problem["file"] for problem in flaky} == {"grader/checks/check_ex01_process.py"}
    solution = next(problem for problem in flaky if "solutions/ex01_process.py" in problem["message"])
    assert "test_flaky_on_purpose passed 1/2" in solution["message"]
    seed = next(s for s in document["submissions"] if s["kind"] == "solution")["seeds"][1]  # the second run failed
    assert solution["seeds"] == [seed] and f"grade exercise-1 --solution --seed {seed}" in solution["fix"]
    assert any("exercises/ex01_process.py" in problem["message"] for problem in flaky)  # the starter's runs too
    assert {row["checked"]: row["result"] for row in document["summary"]}["solution"] == "FLAKY"


def test_a_starter_that_already_passes_is_caught(course: Path) -> None:
    shutil.rmtree(course / "tests")
    shutil.copyfile(course / "solutions" / "ex01_process.py", course / "exercises" / "ex01_process.py")
    completed = check(course, "1", "--runs", "1")
    assert completed.returncode == 1, completed.stderr
    problems = completed.stdout.split("Problems (1):\n")[1]
    assert problems.startswith("✗ exercise-1 · exercises/ex01_process.py: the starter got passed in 1/1 runs, "
                               "expected failed or timeout")
    assert "fix: a starter must run, then fail its checks" in problems
    assert "grade exercise-1 --submission exercises/ex01_process.py --seed " in problems
    assert "\x1b[" not in completed.stdout  # piped: plain text


def test_stray_files_empty_hints_and_catalogue_gaps_are_named(course: Path) -> None:
    shutil.rmtree(course / "tests")
    (course / "exercises" / "ex99_scratch.py").write_text("print('mine')\n")
    (course / "solutions" / ".hidden.py").write_text("")  # dotfiles are not strays
    manifest = course / "exercises.yaml"
    text = manifest.read_text(encoding="utf-8")
    first_zh = text.index("zh: ", text.index("hints:"))
    line_end = text.index("\n", first_zh)
    manifest.write_text(text[:first_zh] + 'zh: " "' + text[line_end:], encoding="utf-8")
    catalogue = course / "grader" / "i18n" / "zh.yaml"
    catalogue.write_text("".join(line for line in catalogue.read_text(encoding="utf-8").splitlines(keepends=True)
                                 if not line.startswith("live.count:")), encoding="utf-8")
    code, document = check_json(course, "1", "--runs", "1")
    assert code == 1
    found = {(p["kind"], p["exercise"], p["file"]): p for p in document["problems"]}
    assert set(found) == {("stray", None, "exercises/ex99_scratch.py"), ("hint", "exercise-1", "exercises.yaml"),
                          ("catalogue", None, "grader/i18n/zh.yaml")}
    assert found["hint", "exercise-1", "exercises.yaml"]["message"] == "hint #1 of exercise-1 has no zh text"
    assert "'live.count' has no zh text" in found["catalogue", None, "grader/i18n/zh.yaml"]["message"]
    assert "remove it, or add its exercise" in found["stray", None, "exercises/ex99_scratch.py"]["fix"]


def test_a_student_copy_is_refused(course: Path) -> None:
    shutil.rmtree(course / "solutions")
    completed = check(course)
    assert completed.returncode == 2 and completed.stdout == ""
    assert len(completed.stderr.splitlines()) == 1 and "student copy" in completed.stderr


def test_a_broken_manifest_is_the_one_problem(course: Path) -> None:
    (course / "exercises.yaml").write_text("format_version: 2\nexercises: [\n", encoding="utf-8")
    code, document = check_json(course)
    assert code == 1 and document["submissions"] == []
    (problem,) = document["problems"]
    assert problem["kind"] == "manifest" and problem["file"] == "exercises.yaml" and "invalid YAML" in problem["message"]


def test_a_broken_manifest_says_the_course_could_not_be_checked(course: Path) -> None:
    (course / "exercises.yaml").write_text("format_version: 2\nexercises: [\n", encoding="utf-8")
    completed = check(course, "--runs", "1")
    assert completed.returncode == 1, completed.stderr
    summary = completed.stdout.rstrip().splitlines()[-1]
    assert summary.startswith("The course could not be checked: its manifest is broken (exercises.yaml, line 3)")
    assert "0 exercises" not in completed.stdout and "exercises.yaml, line 3: invalid YAML" in completed.stdout


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_check_and_export_read_the_same_commit_head_unless_told(tmp_path: Path) -> None:
    """A teacher's course whose origin/HEAD (pushed) has a starter that passes, fixed in a
    local commit not pushed yet: grade check grades HEAD's starter, as grade export ships
    HEAD; --ref (or $GRADE_STARTERS_REF) chooses another commit for both."""
    course = make_course(tmp_path / "course", git=False)
    starter = course / "exercises" / "ex01_process.py"
    fixed = starter.read_bytes()
    shutil.copyfile(course / "solutions" / "ex01_process.py", starter)  # the mistake, pushed
    git(course, "init", "-q")
    for message in ("pushed", "local fix"):
        git(course, "add", "-A")
        git(course, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
        if message == "pushed":
            pushed = git(course, "rev-parse", "HEAD")
            git(course, "update-ref", "refs/remotes/origin/HEAD", pushed)
            starter.write_bytes(fixed)
    head = git(course, "rev-parse", "HEAD")
    unset = {"GRADE_STARTERS_REF": ""}

    code, document = check_json(course, "1", "--runs", "1", env=unset)
    assert code == 0, document["problems"]
    assert document["starters"] == {"ref": "HEAD", "commit": head}
    text = check(course, "1", "--runs", "1", "--ref", "origin/HEAD", env=unset)
    assert text.returncode == 1 and "the starter got passed in 1/1 runs" in text.stdout
    assert text.stdout.rstrip().endswith(f"starters as committed at {pushed[:12]} (origin/HEAD).")

    def export(ref: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "grader", "export", str(tmp_path / f"copy-{ref or 'default'}")],
                              cwd=course, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                              env={**os.environ, **TEST_LANGUAGE, "GRADE_STARTERS_REF": ref})

    exported = export("")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith(f"Exported the course at {head[:12]} (HEAD)")
    pushed_one = export("origin/HEAD")  # the pushed starter is the solution: export stops there
    assert pushed_one.returncode == 1
    assert "exercises/ex01_process.py holds the reference solution" in pushed_one.stderr
    typo = check(course, "1", "--ref", "no-such-ref")
    assert typo.returncode == 2 and "no-such-ref" in typo.stderr


def test_flakiness_measures_the_course_it_is_given(course: Path) -> None:
    """bench/flakiness.py --course DIR grades that course's exercises: here, a copy whose
    exercise-1 starter is solved, so it passes (the project's own starter fails)."""
    shutil.copyfile(course / "solutions" / "ex01_process.py", course / "exercises" / "ex01_process.py")
    measured = subprocess.run([sys.executable, str(ROOT / "bench" / "flakiness.py"), "exercise-1", "--runs", "1",
                               "--start-method", "fork", "--course", str(course)], cwd=ROOT, capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL, env={**os.environ, **TEST_LANGUAGE})
    assert measured.returncode == 0, measured.stderr
    rows = [line.split() for line in measured.stdout.splitlines()]
    assert rows and all(row[:3] == ["exercise-1", "(starter)", row[2]] and row[-2:] == ["passed", "1/1"]
                        for row in rows), measured.stdout


def test_an_unknown_exercise_is_a_usage_error(course: Path) -> None:
    completed = check(course, "exercise-99")
    assert completed.returncode == 2 and "unknown exercise 'exercise-99'" in completed.stderr


def test_a_check_failing_once_in_five_is_flaky_with_its_rates_and_seed() -> None:
    from grader.course_check import Checked, Graded, Unit, run_problems
    from grader.manifest import load_course
    from grader.results import Status

    exercise = load_course(ROOT).exercises[7]
    unit = Unit(exercise, "solution", "solutions/ex08_lock.py", ROOT / "solutions" / "ex08_lock.py",
                frozenset({Status.PASSED}), "grade exercise-8 --solution")
    verdicts = [Status.PASSED, Status.PASSED, Status.FAILED, Status.PASSED, Status.PASSED]
    checked = Checked(unit, [Graded("exercise-8", seed, status, 1.0,
                                    (("test_total", "spawn", status), ("test_started", "spawn", Status.PASSED)),
                                    "" if status is Status.PASSED else "test_total [spawn]: Expected: 400")
                             for seed, status in zip([11, 22, 33, 44, 55], verdicts)])
    (problem,) = run_problems(checked, ROOT)
    assert problem.kind == "flaky" and problem.file == "grader/checks/check_ex08_lock.py" and problem.seeds == (33,)
    assert problem.message == ("FLAKY on solutions/ex08_lock.py (solution: passed 4/5, failed 1/5; expected passed): "
                               "test_total [spawn] passed 4/5, failed 1/5 (not passed with seeds 33)")
    assert "grade exercise-8 --solution --seed 33" in problem.fix
    steady = Checked(unit, [dataclasses.replace(graded, status=Status.FAILED) for graded in checked.runs[:2]])
    (wrong,) = run_problems(steady, ROOT)
    assert wrong.kind == "verdict" and wrong.file == "solutions/ex08_lock.py"
    assert wrong.message.startswith("the solution got failed in 2/2 runs, expected passed (seeds 11, 22)")
