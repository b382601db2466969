"""``gradescope``: the ``results.json`` a Gradescope autograder writes.

Fields (Gradescope's autograder specification): top level ``score``, ``max_score``,
``execution_time`` (seconds: the run's wall time, left out when the report does not know
it; not the sum of the exercises' times, which overlap), ``output``, ``output_format``,
``visibility``, ``stdout_visibility`` and ``tests``; each test ``name``, ``number``, ``score``,
``max_score``, ``status`` (``passed`` or ``failed``), ``output``, ``output_format``,
``tags`` and ``visibility``.

The tests follow how the grader scores: an exercise scored all or nothing is one test
worth its points (its output: each check's verdict and the failures' feedback); an
exercise with partial credit is one test per check, worth the check's points. In the
teacher's view (an autograder's) hidden checks are there in full, with
``visibility: after_published`` (students see them once the teacher publishes the
grades); an all-or-nothing exercise's hidden checks are one more test worth nothing, so
its visible test says only how many failed. In a students' view they are one visible
test of the points they earned, saying how many failed.
"""

from __future__ import annotations

import json

from grader.formats._common import by_check, failures, methods, output_heading, view, worst
from grader.i18n import text
from grader.results import CheckResult, ExerciseResult, Report, Status

HIDDEN = "after_published"
VISIBLE = "visible"
OUTPUT_CHARS = 8_000  # per test: Gradescope pages show it whole, students read it


def render(report: Report, language: str, teacher: bool = False) -> str:
    """``teacher``: the hidden checks in full, marked ``after_published`` (what an
    autograder writes: Gradescope shows them when the teacher publishes); otherwise the
    students' view, where they are only counted."""
    report = view(report, teacher)
    tests: list[dict] = []
    for exercise in report.exercises:
        tests += _tests(exercise, language)
    for number, test in enumerate(tests, 1):
        test["number"] = str(number)
    passed = sum(1 for exercise in report.exercises if exercise.status is Status.PASSED)
    document = {
        "score": report.score, "max_score": report.max_score,
        **({"execution_time": round(report.duration_s, 1)} if report.duration_s is not None else {}),
        "output": text("report.summary", language, passed=passed, total=len(report.exercises),
                       score=report.score, max_score=report.max_score),
        "output_format": "text", "visibility": VISIBLE, "stdout_visibility": "hidden", "tests": tests,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _tests(exercise: ExerciseResult, language: str) -> list[dict]:
    name = f"{exercise.id} · {exercise.slug} · {exercise.title}"
    if exercise.problem:
        return [_test(name, 0, exercise.max_score, exercise.problem, [exercise.id], VISIBLE, passed=False)]
    hidden = [check for check in exercise.checks if check.hidden]
    if exercise.partial_credit:
        withheld = exercise.withheld  # a students' view: the hidden checks, counted
        counted = [_test(f"{name} · {text('junit.hidden_checks', language)}", withheld.earned, withheld.points,
                         _withheld_text(exercise, language), [exercise.id], VISIBLE, passed=not withheld.failed)
                   ] if withheld is not None else []
        return counted + [_test(f"{name} · {check}", exercise.points_of(check) if worst(group) is Status.PASSED else 0,
                      exercise.points_of(check), _feedback(group, language), [exercise.id],
                      HIDDEN if group[0].hidden else VISIBLE, passed=worst(group) is Status.PASSED)
                for check, group in by_check(exercise.checks).items()]
    student = exercise.for_students()
    lines = [_feedback(group, language) for group in by_check(student.checks).values()]
    if student.withheld is not None and student.withheld.failed:
        lines.append(_withheld_text(student, language))
    if exercise.hint:
        lines.append(text("report.hint", language, hint=exercise.hint))
    tests = [_test(name, exercise.score, exercise.max_score, "\n\n".join(lines), [exercise.id], VISIBLE,
                   passed=exercise.status is Status.PASSED)]
    if hidden:
        tests.append(_test(f"{name} · {text('junit.hidden_checks', language)}", 0, 0,
                           "\n\n".join(_feedback(group, language) for group in by_check(hidden).values()),
                           [exercise.id], HIDDEN, passed=worst(hidden) is Status.PASSED))
    return tests


def _withheld_text(exercise: ExerciseResult, language: str) -> str:
    hidden = exercise.withheld
    assert hidden is not None
    if not hidden.failed:
        return text("report.hidden_passed", language, total=hidden.total)
    return text("report.hidden_error" if hidden.error else "report.hidden_failed", language, failed=hidden.failed,
                total=hidden.total)


def _feedback(group: list[CheckResult], language: str) -> str:
    """A check's verdict under each start method, and each distinct failure's feedback."""
    status = worst(group)
    parts = [f"{'✓' if status is Status.PASSED else '✗'} {group[0].name} [{methods(group)}]"]
    for failure in failures(group):
        if len(failure.checks) < len(group):
            parts.append(f"[{failure.methods}]")
        parts.append(failure.first.message)
        if failure.first.output.strip():
            parts.append(text(output_heading(failure.first.status), language) + "\n" + failure.first.output.rstrip())
    return "\n".join(parts)


def _test(name: str, score: int, max_score: int, output: str, tags: list[str], visibility: str,
          passed: bool) -> dict:
    if len(output) > OUTPUT_CHARS:
        output = output[:OUTPUT_CHARS] + f"\n[… {len(output) - OUTPUT_CHARS} more characters not shown]"
    return {"name": name, "score": score, "max_score": max_score, "status": "passed" if passed else "failed",
            "output": output, "output_format": "text", "tags": tags, "visibility": visibility}
