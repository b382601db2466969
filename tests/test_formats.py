"""Every output format, rendered from one report (``tests/formats/report.json``: a real
grading of five submissions, its paths and times made fixed, with hidden checks and
partial credit added), against golden files and against each format's published rules.

Update the golden files after an intended change with
``GRADE_UPDATE_GOLDENS=1 pytest tests/test_formats.py``, then review the diff.
"""

from __future__ import annotations

import decimal
import json
import os
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

import msgspec
import pytest
import xmlschema

from grader.formats import EXTENSIONS, FORMATS, Output, OutputError, render
from grader.formats import github, markdown
from grader.results import CheckResult, ExerciseResult, PullRequest, Report, Status

FOLDER = Path(__file__).parent / "formats"
EXPECTED = FOLDER / "expected"
HIDDEN_NAME = "test_lock_released_on_error"
HIDDEN_MESSAGE = "The lock stayed held after an exception"
SUFFIX = {"text": "txt", "json": "json", "junit": "xml", "gradescope": "json", "markdown": "md", "github": "txt"}
# Each format as students see it, and those a teacher's view changes, in English and Chinese.
GOLDENS = [(name, "student", "en") for name in FORMATS] + [
    ("json", "teacher", "en"), ("junit", "teacher", "en"), ("markdown", "teacher", "en"), ("gradescope", "teacher", "en"),
    ("text", "student", "zh"), ("markdown", "student", "zh")]


def load_report() -> Report:
    return Report.from_json(json.loads((FOLDER / "report.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize(("name", "view", "language"), GOLDENS, ids=["-".join(case) for case in GOLDENS])
def test_golden(name: str, view: str, language: str) -> None:
    got = render(load_report(), name, language, teacher=view == "teacher")
    golden = EXPECTED / f"{name}.{view}.{language}.{SUFFIX[name]}"
    if os.environ.get("GRADE_UPDATE_GOLDENS"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"{golden.name} is missing: run GRADE_UPDATE_GOLDENS=1 pytest {__file__}"
    assert got == golden.read_text(encoding="utf-8"), f"{golden.name} differs: if intended, update and review it"


@pytest.mark.parametrize("name", FORMATS)
def test_students_never_see_a_hidden_check(name: str) -> None:
    shown = render(load_report(), name, "en").replace("\\", "")  # markdown escapes the name's underscores
    assert HIDDEN_NAME not in shown and HIDDEN_MESSAGE not in shown
    assert HIDDEN_NAME in render(load_report(), name, "en", teacher=True).replace("\\", "")


def test_json_reads_back_as_the_same_report() -> None:
    report = load_report()
    for teacher in (True, False):
        document = json.loads(render(report, "json", "en", teacher=teacher))
        again = Report.from_json(document)
        assert again.to_json() == document
        assert again.score == report.score


def test_a_document_of_another_kind_is_refused() -> None:
    for document in ({"schema": "grade-check/1"}, [], {"schema": "grade/1", "view": "teacher"}):
        with pytest.raises(ValueError):
            Report.from_json(document)


# --- JUnit: the published schemas, and what its readers read --------------------------------

SCHEMAS = FOLDER / "schemas"  # each as published: where from and its licence in schemas/README.md
CASE_LOCATION = ("file", "line")  # on a test case: GitLab and action-junit-report read them; neither schema allows them


def junit_documents() -> list[str]:
    """The junit output of the report fixture in either view, and of an interrupted run."""
    interrupted = Report([ExerciseResult("exercise-2", "main-guard", "Guard", 1, problem="interrupted",
                                         file="exercises/ex02_main_guard.py")], interrupted=True)
    return [render(load_report(), "junit", "en"), render(load_report(), "junit", "en", teacher=True),
            render(interrupted, "junit", "en")]


def without_case_locations(document: str) -> ET.Element:
    """The document less what the README says neither published schema allows: the test
    cases' ``file`` and ``line``."""
    root = ET.fromstring(document)
    for case in root.iter("testcase"):
        for name in CASE_LOCATION:
            case.attrib.pop(name, None)
    return root


def test_junit_is_valid_against_jenkins_junit_10_but_for_case_locations() -> None:
    schema = xmlschema.XMLSchema(SCHEMAS / "junit-10.xsd")
    for document in junit_documents():
        schema.validate(ET.tostring(without_case_locations(document), encoding="unicode"))


def test_junit_has_the_structure_of_the_ant_schema() -> None:
    """Valid against the Ant-style schema once given what the README says it lacks: the
    Ant schema allows no attribute on ``<testsuites>``, and requires of each suite what a
    report does not hold (``timestamp``, ``hostname``) or no reader needs (``id``,
    ``package``, ``<system-out>``, ``<system-err>``)."""
    schema = xmlschema.XMLSchema(SCHEMAS / "JUnit.xsd")
    for document in junit_documents():
        root = without_case_locations(document)
        root.attrib.clear()
        for index, suite in enumerate(root):
            suite.attrib.update(id=str(index), package=suite.get("name", ""), timestamp="2000-01-01T00:00:00",
                                hostname="localhost")
            ET.SubElement(suite, "system-out")
            ET.SubElement(suite, "system-err")
        schema.validate(ET.tostring(root, encoding="unicode"))


def test_junit_case_times_add_up_to_at_most_their_suite_time() -> None:
    """GitLab and action-junit-report add the cases' times up: each check's time counts its
    whole session, which the checks of a start method share."""
    thirds = Report([ExerciseResult("exercise-1", "process", "P", 1, file="e.py", duration_s=1.0004, checks=[
        CheckResult(f"test_{n}", "fork", Status.PASSED, duration_s=1.0 / 3) for n in range(3)] + [
        CheckResult(f"test_{n}", "spawn", Status.PASSED, duration_s=2.0 / 3) for n in range(3)])])
    for report in (load_report(), thirds):
        for teacher in (False, True):
            for suite in ET.fromstring(render(report, "junit", "en", teacher=teacher)):
                cases = sum(decimal.Decimal(case.get("time")) for case in suite.iter("testcase"))
                assert cases <= decimal.Decimal(suite.get("time")), suite.get("name")
                assert cases > 0


def test_junit_failing_cases_say_where_they_failed() -> None:
    """A case names its exercise's file, and a failure the line of it where it shows
    (action-junit-report annotates that line; without it, line 1)."""
    report = load_report()
    root = ET.fromstring(render(report, "junit", "en", teacher=True))
    located = 0
    for exercise, suite in zip(report.exercises, root.findall("testsuite")):
        cases = {case.get("name"): case for case in suite.findall("testcase")}
        assert all(case.get("file") == exercise.file for case in cases.values())
        for check in exercise.checks:
            case = cases[f"{check.name}[{check.start_method}]"]
            if check.status is not Status.PASSED and check.line is not None:
                assert case.find("failure") is not None or case.find("error") is not None
                assert case.get("line") == str(check.line)
                located += 1
            else:
                assert case.get("line") is None
    assert located >= 10


def test_junit_counts_and_cases() -> None:
    root = ET.fromstring(render(load_report(), "junit", "en"))
    suites = {suite.get("name"): suite for suite in root}
    assert list(suites) == ["exercise-1 process", "exercise-3 queue", "exercise-5 pool-map", "exercise-8 lock",
                            "exercise-9 drain"]
    ex3 = suites["exercise-3 queue"]
    assert ex3.get("tests") == "8" and ex3.get("failures") == "8" and ex3.get("errors") == "0"
    assert {case.get("name") for case in ex3}.issuperset({"test_empty_input[fork]", "test_empty_input[spawn]"})
    ex5 = suites["exercise-5 pool-map"]
    (case,) = ex5.findall("testcase")
    assert case.find("error") is not None and "SyntaxError" not in case.get("name")
    assert root.get("tests") == str(sum(int(suite.get("tests")) for suite in root))
    text = ET.tostring(root, encoding="unicode")
    assert "\x07" not in text and "\ufffd" in text  # a control character a submission printed


def test_junit_skips_an_exercise_the_interruption_left_ungraded() -> None:
    report = Report([ExerciseResult("exercise-2", "main-guard", "Guard", 1, problem="interrupted")], interrupted=True)
    root = ET.fromstring(render(report, "junit", "en"))
    assert root.find("testsuite/testcase/skipped") is not None


# --- Gradescope: the autograder specification's fields ----------------------------------

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]


class GradescopeTest(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    output: str
    output_format: Literal["text", "html", "simple_format", "md", "ansi"]
    tags: list[str]
    visibility: Visibility
    number: str


class GradescopeResults(msgspec.Struct, forbid_unknown_fields=True):
    score: float
    max_score: float
    output: str
    output_format: Literal["text", "html", "simple_format", "md", "ansi"]
    visibility: Visibility
    stdout_visibility: Visibility
    tests: list[GradescopeTest]
    execution_time: float | None = None  # optional in the specification


@pytest.mark.parametrize("teacher", [False, True])
def test_gradescope_scores_add_up_in_either_view(teacher: bool) -> None:
    report = load_report()
    results = msgspec.json.decode(render(report, "gradescope", "en", teacher=teacher), type=GradescopeResults)
    assert results.score == report.score == sum(test.score for test in results.tests)
    assert results.max_score == report.max_score == sum(test.max_score for test in results.tests)


def test_gradescope_fields_and_hidden_checks_after_publishing() -> None:
    report = load_report()
    results = msgspec.json.decode(render(report, "gradescope", "en", teacher=True), type=GradescopeResults)
    hidden = [test for test in results.tests if HIDDEN_NAME in test.name]
    assert hidden and all(test.visibility == "after_published" for test in hidden)
    assert all(test.visibility == "visible" for test in results.tests if test not in hidden and "hidden" not in test.name)
    visible_outputs = " ".join(test.output for test in results.tests if test.visibility == "visible")
    assert HIDDEN_MESSAGE not in visible_outputs
    assert [test.number for test in results.tests] == [str(n) for n in range(1, len(results.tests) + 1)]


def test_gradescope_execution_time_is_the_runs_wall_time() -> None:
    """Exercises graded side by side overlap: the run took less than the sum of their times."""
    report = load_report()
    assert report.duration_s == 4.1 and sum(exercise.duration_s for exercise in report.exercises) == 6.25
    assert json.loads(render(report, "gradescope", "en"))["execution_time"] == 4.1
    report.duration_s = None  # a report that does not know it (a document of an older grader)
    assert "execution_time" not in json.loads(render(report, "gradescope", "en"))


def test_a_report_knows_the_wall_time_of_its_run() -> None:
    from conftest import grade_json

    started = time.monotonic()
    document = grade_json("1", "--solution", "--start-method", "fork")
    assert 0 < document["duration_s"] <= time.monotonic() - started
    assert Report.from_json(document).duration_s == document["duration_s"]


# --- Markdown: a pull-request comment ------------------------------------------------------

def flood(exercises: int, output_lines: int) -> Report:
    """A report whose every exercise failed with a long message and a long output."""
    def failing(index: int) -> ExerciseResult:
        checks = [CheckResult(f"test_{n}", "fork", Status.FAILED, message=f"wrong {n} " + "x" * 500,
                              output="\n".join(f"line {i} ```" for i in range(output_lines))) for n in range(20)]
        return ExerciseResult(f"exercise-{index}", f"slug-{index}", f"Title {index}", 1, checks)
    return Report([failing(index) for index in range(1, exercises + 1)], seed=1)


def test_markdown_stays_under_the_comment_limit_and_says_what_it_left_out() -> None:
    shown = render(flood(40, 200), "markdown", "en")
    assert len(shown) <= markdown.LIMIT + 1000
    assert "more exercise(s) with failures are not shown here" in shown
    assert shown.count("| ❌ | exercise-") == 40  # the table is always whole


def test_a_file_name_cannot_break_out_of_the_summary() -> None:
    report = load_report()
    assert report.pull_request is not None
    report.pull_request.ignored.append("x\n\n## ✅ All passed 10/10\n\n<img src=x>" + "y" * 5000)
    for name in ("markdown", "text"):
        shown = render(report, name, "en")
        assert "\n## ✅ All passed" not in shown and "y" * 300 not in shown


def test_markdown_fences_what_a_submission_printed() -> None:
    shown = render(load_report(), "markdown", "en")
    fences = re.findall(r"^(`{3,})text$", shown, re.MULTILINE)
    assert "````" in fences  # longer than the ``` the submission printed
    assert "\n::error::injected" in shown  # inside a fence: text, not markdown


# --- GitHub: workflow commands ------------------------------------------------------------

COMMAND = re.compile(r"^::(error|warning|notice)( [a-z]+=[^,:]*(,[a-z]+=[^,:]*)*)?::[^\n\r]*$")


def test_github_commands_are_well_formed_and_cannot_be_injected() -> None:
    lines = render(load_report(), "github", "en").splitlines()
    assert lines and all(COMMAND.match(line) for line in lines), lines
    assert not any(line.startswith("::error::injected") for line in lines)
    errors = [line for line in lines if line.startswith("::error file=exercises/ex03_queue.py,line=16,")]
    assert errors  # on the line where the call raised
    assert any(line.startswith("::error file=exercises/ex09_drain.py,line=54,") for line in lines)  # where it hung
    assert "::warning file=grader/checks/check_ex03_queue.py," in "\n".join(lines)


def starters_like(exercises: int, failures: int) -> Report:
    """A report like the starters': every exercise failed, each check for a reason of its own."""
    def failing(number: int) -> ExerciseResult:
        checks = [CheckResult(f"test_{n}", "fork", Status.FAILED, message=f"wrong {n}", line=n + 1)
                  for n in range(1, failures + 1)]
        return ExerciseResult(f"exercise-{number}", f"slug-{number}", f"Title {number}", 1, checks,
                              file=f"exercises/ex{number:02d}.py")
    return Report([failing(number) for number in range(1, exercises + 1)], seed=1)


def test_github_annotates_each_exercise_before_a_second_failure_of_one() -> None:
    """GitHub shows 10 errors of a step in the diff: the first failing check of each
    exercise comes first, and a notice counts the failures beyond what the diff shows."""
    lines = render(starters_like(12, 3), "github", "en").splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 36
    firsts = [re.search(r"title=(exercise-\d+) · (test_\d+) ", line).groups() for line in errors[:12]]
    assert firsts == [(f"exercise-{number}", "test_1") for number in range(1, 13)]
    assert "title=exercise-1 · test_2 " in errors[12]
    (notice,) = [line for line in lines if line.startswith("::notice") and "::GitHub" in line]
    assert f"{36 - github.ANNOTATIONS_PER_STEP} more failure(s)" in notice
    assert lines[-1].startswith("::notice title=grade::")


def test_github_says_nothing_of_a_limit_it_stays_within() -> None:
    lines = render(starters_like(5, 2), "github", "en").splitlines()
    assert len([line for line in lines if line.startswith("::error ")]) == github.ANNOTATIONS_PER_STEP
    assert [line for line in lines if line.startswith("::notice")] == [lines[-1]]


def test_github_counts_the_ignored_files_it_cannot_annotate() -> None:
    report = starters_like(1, 1)
    report.pull_request = PullRequest("origin/main", "0" * 40, [], [f"notes/{n}.txt" for n in range(13)])
    lines = render(report, "github", "en").splitlines()
    assert len([line for line in lines if line.startswith("::warning ")]) == 13
    assert any(line.startswith("::notice") and "3 more changed file(s)" in line for line in lines)


def test_github_annotates_a_syntax_error_on_its_line() -> None:
    lines = render(load_report(), "github", "en").splitlines()
    assert any(line.startswith("::error file=exercises/ex05_pool_map.py,line=1,title=exercise-5 · ") for line in lines)


def test_github_escapes_percent_and_newlines() -> None:
    report = Report([ExerciseResult("exercise-1", "process", "P", 1, [
        CheckResult("test_a", "fork", Status.FAILED, message="50% done\r\nnext: a, b", line=3)], file="e.py")])
    (error, _) = render(report, "github", "en").splitlines()
    assert error.endswith("::50%25 done%0D%0Anext: a, b")
    assert "title=exercise-1 · test_a [fork]" in error


# --- --output ----------------------------------------------------------------------------

def test_an_output_file_format_comes_from_its_prefix_or_extension() -> None:
    assert Output.parse("gradescope:results.json") == Output("gradescope", Path("results.json"))
    assert Output.parse("out/report.xml") == Output("junit", Path("out/report.xml"))
    assert {Output.parse(f"r{ext}").format for ext in EXTENSIONS} == set(EXTENSIONS.values())
    assert Output.parse("C:results.json").format == "json"  # not a format name: part of the path
    with pytest.raises(OutputError, match="gradescope:results.yaml"):
        Output.parse("results.yaml")


# --- where a failure is: read from the sandbox, so not believed blindly --------------------

def test_a_line_quoted_in_a_message_or_outside_the_file_is_not_where_it_failed(tmp_path: Path) -> None:
    from conftest import grade_json

    submission = tmp_path / "ex03_queue.py"
    submission.write_text("def collect(ns):\n"
                          "    raise ValueError('File \"/x/ex03_queue.py\", line 99999, in collect')\n")
    report = grade_json("3", "--submission", str(submission), "--start-method", "fork")
    assert {check["line"] for check in report["exercises"][0]["checks"]} == {2}
    submission.write_text("def collect(ns):\n"
                          "    raise ValueError('\\n  File \"/x/ex03_queue.py\", line 99999, in collect')\n")
    report = grade_json("3", "--submission", str(submission), "--start-method", "fork")
    assert {check["line"] for check in report["exercises"][0]["checks"]} == {1}  # the def: 99999 is no line of it


def test_a_syntax_error_is_located_on_its_line(tmp_path: Path) -> None:
    from conftest import grade_json

    submission = tmp_path / "ex03_queue.py"
    submission.write_text("def collect(ns):\n    results = = []\n")
    (exercise,) = grade_json("3", "--submission", str(submission))["exercises"]
    assert exercise["status"] == "error" and exercise["line"] == 2
