"""Points per check, partial credit, and hidden checks.

The model (grader.results) and the declarations (grader.declared) are tested in this
process; what a student and a teacher see is tested by grading a copy of the course
whose exercise-3 declares points (a marker and ``check_points``) and has a hidden checks
file: the reference solution passes every visible check, one hidden check passes and one
fails under spawn only, with a message, an output, a timeline and a cause tied to a hint
that must never reach a student.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ROOT, TEST_LANGUAGE
from grader import stress as stress_module
from grader.declared import declare
from grader.manifest import ManifestError, load_course
from grader.progress import STATE_FILE, STATE_FOLDER
from grader.report import render_json, render_text
from grader.results import CheckResult, ExerciseResult, Report, Status
from grader.runner import Options, _Collector
from grader.terminal import LiveLine, Terminal
from test_student import make_course

# The check files here carry the grader's markers, registered in grading runs only.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")
P, F, T = Status.PASSED, Status.FAILED, Status.TIMEOUT

# What a student must never see of the hidden checks.
SECRETS = ("test_secret", "HIDDEN-MESSAGE-MARKER", "HIDDEN-OUTPUT-MARKER", "Use two loops",
           "What your processes did")

HIDDEN_FILE = '''\
"""Hidden checks of exercise-3: they read the calls of check_ex03_queue.py's plan."""

import time

import pytest

from grader.check import CheckFailed, Run


@pytest.mark.points(3)
def test_secret_passes(run: Run) -> None:
    time.sleep(0.5)  # long enough for the live line to draw it
    run.returned("values")


@pytest.mark.points(2)
def test_secret_fails_under_spawn(run: Run) -> None:
    run.returned("values")  # read: its output and timeline go with the verdict
    if run.start_method == "spawn":
        raise CheckFailed("HIDDEN-MESSAGE-MARKER: the values came back", output="HIDDEN-OUTPUT-MARKER",
                          causes=("ex03.process_count",))  # tied to the hint "Use two loops..."
'''


def check(name: str, method: str, status: Status, points: int | None = None, hidden: bool = False,
          **fields: object) -> CheckResult:
    return CheckResult(name, method, status, points=points, hidden=hidden, **fields)


# --- the model --------------------------------------------------------------------------

def test_partial_credit_sums_the_checks_that_passed_under_every_start_method() -> None:
    result = ExerciseResult("exercise-3", "queue", "Queue", 6, [
        check("test_a", "fork", P, 2), check("test_a", "spawn", P, 2),
        check("test_b", "fork", P, 3), check("test_b", "spawn", F, 3),  # fork only: earns nothing
        check("test_c", "fork", P, 1), check("test_c", "spawn", T, 1),
        check("test_d", "fork", P, 0), check("test_d", "spawn", P, 0),
    ], partial_credit=True)
    assert result.score == 2 and result.max_score == 6 and result.status is T
    assert result.passed() == {"test_a": True, "test_b": False, "test_c": False, "test_d": True}
    all_or_nothing = ExerciseResult("exercise-4", "speedup", "Speed", 1, [check("test_x", "fork", P)])
    assert Report([result, all_or_nothing]).score == 3 and Report([result, all_or_nothing]).max_score == 7
    result.problem = "interrupted"
    assert result.score == 0


def test_all_or_nothing_by_default_and_the_shipped_course_declares_no_points() -> None:
    result = ExerciseResult("exercise-3", "queue", "Queue", 4, [check("test_a", "fork", P), check("test_b", "fork", F)])
    assert result.score == 0 and result.to_json()["partial_credit"] is False
    assert result.to_json()["checks"][0]["points"] is None and result.to_json()["hidden_checks"] is None
    result.checks[1].status = P
    assert result.score == 4
    course = load_course(ROOT)
    for exercise in course.exercises:
        table = declare(exercise)
        assert (table.partial_credit, table.problem, table.max_score(exercise)) == (False, "", exercise.points)
        assert table.checks and not any(declared.hidden for declared in table.checks.values())


def hidden_result() -> ExerciseResult:
    timeline = {"call": "collect([1, 2])", "duration_s": 0.1, "processes": [
        {"pid": 4, "role": "main", "target": "", "label": "main process", "starts": [],
         "spans": [{"kind": "alive", "t0": 0.0, "t1": 0.1, "detail": ""}]}]}
    return ExerciseResult("exercise-3", "queue", "Queue", 9, [
        check("test_a", "fork", P, 4), check("test_a", "spawn", P, 4),
        check("test_secret_passes", "fork", P, 3, hidden=True), check("test_secret_passes", "spawn", P, 3, hidden=True),
        check("test_secret_fails", "fork", P, 2, hidden=True),
        check("test_secret_fails", "spawn", T, 2, hidden=True, message="HIDDEN-MESSAGE-MARKER",
              output="HIDDEN-OUTPUT-MARKER", timeline=timeline),
    ], partial_credit=True)


def test_the_students_view_counts_hidden_checks_and_keeps_the_score() -> None:
    report = Report([hidden_result()], seed=1)
    students = report.for_students()
    (exercise,) = students.exercises
    assert [c.name for c in exercise.checks] == ["test_a", "test_a"]
    assert exercise.withheld is not None and exercise.withheld.to_json() == \
        {"total": 2, "failed": 1, "points": 5, "points_lost": 2, "error": False}
    assert (exercise.score, exercise.max_score, students.score) == (7, 9, 7) == (report.score, 9, 7)
    assert report.exercises[0].status is T and exercise.status is F  # a hidden timeout is only a failure
    assert students.for_students() == students
    for shown in (render_json(report), render_text(report, "en"), render_text(report, "zh")):
        assert not any(secret in shown for secret in SECRETS) and "collect([1, 2])" not in shown
    text = render_text(report, "en")
    assert "  ✓ test_a [fork, spawn]  · 4 points" in text
    assert "  ✗ 1 of 2 hidden check(s) failed (their names and feedback are not shown) · 2 of 5 points lost" in text
    assert "7/9" in text
    document = json.loads(render_json(report))
    assert document["view"] == "student" and document["exercises"][0]["hidden_checks"]["failed"] == 1
    teacher = render_text(report, "en", teacher=True)
    assert "test_secret_fails [spawn]  · 2 points  (hidden from students)" in teacher
    assert "HIDDEN-MESSAGE-MARKER" in teacher and "HIDDEN-OUTPUT-MARKER" in teacher and "collect([1, 2])" in teacher
    assert "hidden check(s) failed" not in teacher
    full = json.loads(render_json(report, teacher=True))
    assert full["view"] == "teacher" and full["exercises"][0]["status"] == "timeout"
    assert [c["hidden"] for c in full["exercises"][0]["checks"]] == [False, False, True, True, True, True]


def test_stress_shows_students_the_hidden_checks_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stress_module, "run", lambda options, observer=None: dataclasses.replace(
        Report([hidden_result()]), seed=options.seed))
    students = stress_module.stress(Options(course_root=ROOT, seed=3), 2)
    assert [(t.name, t.start_method, t.hidden) for t in students.tallies] == \
        [("test_a", "fork", False), ("test_a", "spawn", False), ("(hidden checks)", None, True)]
    shown = "\n".join(line.text for line in stress_module.render(students, "en")) + json.dumps(students.to_json())
    assert "(hidden checks, all together)  passed 0/2" in shown and "test_secret" not in shown
    teachers = stress_module.stress(Options(course_root=ROOT, seed=3, teacher=True), 2)
    assert "test_secret_fails [spawn]  (hidden from students)" in \
        "\n".join(line.text for line in stress_module.render(teachers, "en"))


# --- declarations -----------------------------------------------------------------------

def exercise_with(tmp_path: Path, main: str, hidden: str | None = None, check_points: dict | None = None):
    """Exercise-3 of the course with other check files (and check_points)."""
    (tmp_path / "check_main.py").write_text(textwrap.dedent(main))
    if hidden is not None:
        (tmp_path / "check_hidden.py").write_text(textwrap.dedent(hidden))
    exercise = load_course(ROOT).select("3")
    return dataclasses.replace(
        exercise, checks=tmp_path / "check_main.py",
        hidden_checks=tmp_path / "check_hidden.py" if hidden is not None else None,
        check_points=tuple(check_points.items()) if check_points is not None else None)


MAIN = """
    import pytest
    pytestmark = pytest.mark.points(5)
    def plan(rng): ...
    @pytest.mark.points(2)
    def test_marked(run): ...
    def test_module_points(run): ...
    @pytest.mark.hidden
    def test_hidden_by_marker(run): ...
    class TestGroup:
        @pytest.mark.points(0)
        def test_in_class(self, run): ...
    def helper(): ...
"""


def test_the_manifest_wins_over_a_marker_which_wins_over_the_module(tmp_path: Path) -> None:
    table = declare(exercise_with(tmp_path, MAIN, hidden="def test_hidden_file(run): ...\n",
                                  check_points={"test_marked": 7}))
    assert table.problem == "" and table.partial_credit
    assert {name: (table.worth(name), table.hidden(name)) for name in table.checks} == {
        "test_marked": (7, False), "test_module_points": (5, False), "test_hidden_by_marker": (5, True),
        "test_in_class": (0, False), "test_hidden_file": (1, True)}
    assert table.max_score(load_course(ROOT).select("3")) == 18
    plain = declare(exercise_with(tmp_path, "def test_a(run): ...\n"))
    assert not plain.partial_credit and plain.worth("test_a") is None
    assert declare(exercise_with(tmp_path, "def test_a(run): ...\n", check_points={})).worth("test_a") == 1


@pytest.mark.parametrize("main, hidden, check_points, problem", [
    ("import pytest\n@pytest.mark.points('2')\ndef test_a(run): ...\n", None, None, "takes one whole number"),
    ("import pytest\n@pytest.mark.points(-1)\ndef test_a(run): ...\n", None, None, "takes one whole number"),
    ("def test_a(run): ...\n", None, {"test_typo": 2}, "'test_typo' is not a check of check_main.py"),
    ("def test_a(run): ...\n", "def test_b(run): ...\n", {"test_b": 2}, "'test_b' is not a check of"),
    ("def test_a(run): ...\n", "def plan(rng): ...\ndef test_b(run): ...\n", None, "defines plan()"),
    ("def test_a(run): ...\n", "def test_a(run): ...\n", None, "a check's name must be unique"),
])
def test_a_wrong_declaration_is_the_exercises_problem(tmp_path: Path, main: str, hidden: str | None,
                                                      check_points: dict | None, problem: str) -> None:
    table = declare(exercise_with(tmp_path, main, hidden, check_points))
    assert problem in table.problem and not table.checks


def test_the_manifest_fields_are_validated(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course", git=False)
    manifest = course / "exercises.yaml"
    original = manifest.read_text()
    anchor = "    checks: grader/checks/check_ex03_queue.py\n"
    for extra, error in [("    check_points: {test_empty_input: -1}\n", "must not be negative"),
                         ("    check_points: [test_empty_input]\n", "'check_points' must be a mapping"),
                         ("    check_points: {empty: 1}\n", "is not a check's name"),
                         ("    hidden_checks: grader/checks/hidden/none.py\n", "file not found"),
                         ("    hidden_checks: grader/checks/check_ex03_queue.py\n", "is the exercise's 'checks' file")]:
        manifest.write_text(original.replace(anchor, anchor + extra, 1))
        with pytest.raises(ManifestError, match=error):
            load_course(course)


def test_a_hidden_checks_file_that_cannot_load_is_a_hidden_error(tmp_path: Path) -> None:
    course = hidden_course(tmp_path / "course")
    loaded = load_course(course)
    exercise = loaded.select("3")
    result = ExerciseResult(exercise.id, exercise.slug, "Queue", 1)
    seen = []
    observer = SimpleNamespace(check_finished=lambda exercise_id, check: seen.append(check))
    collector = _Collector(loaded, {exercise.id: result}, {exercise.id: declare(exercise)}, observer, "en")
    fspath = str(exercise.hidden_checks.relative_to(course))
    collector.pytest_collectreport(SimpleNamespace(failed=True, fspath=fspath, longreprtext="SyntaxError: secret"))
    assert result.problem == "" and result.status is Status.ERROR and result.checks[0].hidden
    assert "SyntaxError: secret" in result.checks[0].message
    assert seen[0].name == "a hidden check" and seen[0].message == ""
    assert result.for_students().withheld.error
    assert "could not be graded" in render_text(Report([result]), "en")


# --- a course with points and hidden checks, graded as students and teachers do --------------

def hidden_course(folder: Path) -> Path:
    """A copy of the course whose exercise-3 declares points and has hidden checks, with
    the reference solution as the student's file."""
    course = make_course(folder, git=False)
    manifest = course / "exercises.yaml"
    anchor = "    checks: grader/checks/check_ex03_queue.py\n"
    manifest.write_text(manifest.read_text().replace(anchor, anchor + (
        "    check_points: {test_empty_input: 2}\n"
        "    hidden_checks: grader/checks/hidden/check_ex03_queue.py\n"), 1))
    main = course / "grader" / "checks" / "check_ex03_queue.py"
    main.write_text(main.read_text()
                    .replace("import random\n", "import random\n\nimport pytest\n", 1)
                    .replace("def test_empty_input(", "@pytest.mark.points(7)  # check_points wins: 2\n"
                             "def test_empty_input(", 1)
                    .replace("def test_one_child_process_per_element(", "@pytest.mark.points(3)\n"
                             "def test_one_child_process_per_element(", 1))
    (course / "grader" / "checks" / "hidden" / "check_ex03_queue.py").write_text(HIDDEN_FILE)
    typo = course / "grader" / "checks" / "check_ex01_process.py"  # and exercise-1 misspells a marker
    typo.write_text(typo.read_text().replace("import random\n", "import random\n\nimport pytest\n", 1)
                    .replace("def test_thread_waits_for_target(", "@pytest.mark.pionts(2)\n"
                             "def test_thread_waits_for_target(", 1))
    (course / "exercises" / "ex03_queue.py").write_text((ROOT / "solutions" / "ex03_queue.py").read_text())
    return course


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hidden_course(tmp_path_factory.mktemp("points") / "course")


METHODS = ("--start-method", "fork", "--start-method", "spawn")


def grade(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "3", *METHODS, *args], cwd=course, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL, env={**os.environ, **TEST_LANGUAGE})


def test_students_see_a_count_and_the_score(course: Path) -> None:
    shown = grade(course)
    assert shown.returncode == 1, shown.stderr
    assert not any(secret in shown.stdout + shown.stderr for secret in SECRETS), shown.stdout
    lines = shown.stdout.splitlines()
    assert "FAILED   10/12" in lines[0]  # visible 1 + 2 + 3 + 1, hidden 3 of 3 + 2
    assert "  ✓ test_empty_input [fork, spawn]  · 2 points" in lines
    assert "  ✓ test_one_child_process_per_element [fork, spawn]  · 3 points" in lines
    assert "  ✗ 1 of 2 hidden check(s) failed (their names and feedback are not shown) · 2 of 5 points lost" in lines
    assert lines[-2] == "0/1 exercises passed · score 10/12"
    state = (course / STATE_FOLDER / STATE_FILE).read_text()
    assert json.loads(state)["exercises"]["exercise-3"]["status"] == "failed"
    assert not any(secret in state for secret in SECRETS)
    document = json.loads(grade(course, "--format", "json").stdout)
    assert not any(secret in json.dumps(document) for secret in SECRETS)
    (exercise,) = document["exercises"]
    assert (document["view"], exercise["score"], exercise["max_score"], exercise["partial_credit"]) == \
        ("student", 10, 12, True)
    assert exercise["hidden_checks"] == {"total": 2, "failed": 1, "points": 5, "points_lost": 2, "error": False}
    assert {c["name"]: c["points"] for c in exercise["checks"]} == {
        "test_results_in_order_of_ns": 1, "test_empty_input": 2, "test_one_child_process_per_element": 3,
        "test_all_started_before_first_join": 1}
    assert exercise["hint"] == "" and len(exercise["checks"]) == 8


def test_teachers_see_everything(course: Path) -> None:
    shown = grade(course, "--teacher")
    assert "  ✗ test_secret_fails_under_spawn [spawn]  · 2 points  (hidden from students)" in shown.stdout
    assert all(secret in shown.stdout for secret in ("HIDDEN-MESSAGE-MARKER", "HIDDEN-OUTPUT-MARKER",
                                                     "What your processes did", "test_secret_passes"))
    assert "Use two loops" not in shown.stdout  # a hint comes from visible checks' causes only, for teachers too
    document = json.loads(grade(course, "--teacher", "--format", "json", "-j", "2").stdout)
    (exercise,) = document["exercises"]
    assert (document["view"], exercise["score"], exercise["max_score"]) == ("teacher", 10, 12)
    secret = [c for c in exercise["checks"] if c["name"] == "test_secret_fails_under_spawn"]
    assert sorted((c["start_method"], c["status"], c["hidden"], c["points"]) for c in secret) == \
        [("fork", "passed", True, 2), ("spawn", "failed", True, 2)]
    failed = next(c for c in secret if c["status"] == "failed")
    assert failed["message"].startswith("HIDDEN-MESSAGE-MARKER") and failed["output"] == "HIDDEN-OUTPUT-MARKER"
    assert failed["timeline"]["call"].startswith("collect(")
    assert len(exercise["checks"]) == 12  # every check once, though two files went to one of two workers


def test_a_misspelt_marker_is_an_error_of_the_checks(course: Path) -> None:
    document = json.loads(subprocess.run(
        [sys.executable, "-m", "grader", "1", "--start-method", "fork", "--format", "json"], cwd=course,
        capture_output=True, text=True, timeout=180, env={**os.environ, **TEST_LANGUAGE}).stdout)
    (exercise,) = document["exercises"]
    assert exercise["status"] == "error" and "'pionts' not found in `markers`" in exercise["message"]


def test_stress_shows_students_only_the_hidden_checks_together(course: Path) -> None:
    shown = grade(course, "--stress", "1")
    assert shown.returncode == 1 and re.search(r"\(hidden checks, all together\) +passed 0/1", shown.stdout), \
        shown.stdout
    assert not any(secret in shown.stdout for secret in SECRETS)
    document = json.loads(grade(course, "--stress", "1", "--format", "json", "--teacher").stdout)
    assert {c["name"] for c in document["checks"] if c["hidden"]} == {"test_secret_passes",
                                                                    "test_secret_fails_under_spawn"}


@pytest.mark.parametrize("teacher", [False, True])
def test_the_live_line_names_a_hidden_check_to_teachers_only(course: Path, teacher: bool) -> None:
    loaded = load_course(course)
    exercise = loaded.select("3")
    result = ExerciseResult(exercise.id, exercise.slug, "Queue", 1)
    live = LiveLine(Terminal(io.StringIO()), "en")
    collector = _Collector(loaded, {exercise.id: result}, {exercise.id: declare(exercise)}, live, "en", teacher)
    nodeid = f"{exercise.hidden_checks.relative_to(course)}::test_secret_fails_under_spawn[spawn]"
    collector.pytest_runtest_logstart(nodeid, ("", 0, ""))
    drawn = live._render().plain
    assert ("exercise-3 · test_secret_fails_under_spawn [spawn]" in drawn) is teacher
    assert ("exercise-3 · a hidden check [spawn]" in drawn) is not teacher
    visible = f"{exercise.checks.relative_to(course)}::test_empty_input[fork]"
    collector.pytest_runtest_logstart(visible, ("", 0, ""))
    assert "exercise-3 · test_empty_input [fork]" in live._render().plain


def test_a_students_terminal_shows_nothing_of_a_hidden_check(course: Path) -> None:
    """On a terminal: the live line while checks run, then the styled report."""
    from test_terminal import Terminal as Pty

    terminal = Pty(["3", *METHODS], course)
    try:
        terminal.expect(r"score 10/12", timeout=120)
        assert terminal.wait() == 1
        assert not any(secret in terminal.screen for secret in SECRETS), terminal.screen[-3000:]
    finally:
        terminal.close()
