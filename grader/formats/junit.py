"""``junit``: JUnit XML, as CI systems render test reports (GitHub, GitLab, Jenkins).

One ``<testsuite>`` per exercise, one ``<testcase>`` per check and start method
(``test_values[spawn]``, class name ``exercise-3.queue``); a failed or timed-out check is
a ``<failure>``, a check that could not be graded an ``<error>``, with the message as the
``message`` attribute's first line and the message and output as text. An exercise that
could not be graded at all is one test case ``exercise-3`` with an ``<error>`` (or
``<skipped>``, when the run was interrupted before it). In a students' view the hidden
checks are one test case, ``hidden checks``, failing with how many failed.
Every test case names the exercise's file (``file``), and a failure the line where it
shows (``line``): GitLab and action-junit-report read them there, though neither published
schema allows them (the README says which schemas the output meets, and but for what).
A case's time is its check's (its sandbox session's, which every check of its start
method shares, plus its own evaluation) scaled down by one factor for all the cases of an
exercise so that they add up to at most the exercise's time, as the readers that add them
up expect.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from grader.formats._common import view, xml_safe
from grader.i18n import text
from grader.results import CheckResult, ExerciseResult, Report, Status

MESSAGE_ATTRIBUTE_CHARS = 300  # the message attribute: a line for a list; the text has it all
TEXT_CHARS = 20_000  # per failure: a CI page shows it whole


def render(report: Report, language: str, teacher: bool = False) -> str:
    report = view(report, teacher)
    root = ET.Element("testsuites", name="grade")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for exercise in report.exercises:
        suite = _suite(exercise, report.interrupted, language)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        if key != "skipped":
            root.set(key, str(value))
    run_s = report.duration_s if report.duration_s is not None else sum(e.duration_s for e in report.exercises)
    root.set("time", _seconds(run_s))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(exercise: ExerciseResult, interrupted: bool, language: str) -> ET.Element:
    suite = ET.Element("testsuite", name=f"{exercise.id} {exercise.slug}")
    properties = ET.SubElement(suite, "properties")
    for name, value in (("title", exercise.title), ("file", exercise.file), ("status", exercise.status.value),
                        ("score", str(exercise.score)), ("max_score", str(exercise.max_score))):
        ET.SubElement(properties, "property", name=name, value=xml_safe(value))
    classname = f"{exercise.id}.{exercise.slug}"
    cases: list[ET.Element] = []
    durations: list[float] = []
    if exercise.problem:
        case = _case(exercise.id, classname, exercise.file)
        if exercise.file and exercise.line is not None:
            case.set("line", str(exercise.line))
        kind = "skipped" if interrupted and not exercise.checks else "error"
        _detail(case, kind, exercise.problem, "", Status.ERROR)
        cases.append(case)
        durations.append(exercise.duration_s)
    for check in exercise.checks:
        cases.append(_check_case(check, classname, exercise.file))
        durations.append(check.duration_s)
    if exercise.withheld is not None:
        case = _case(text("junit.hidden_checks", language), classname, exercise.file)
        if exercise.withheld.failed:
            said = text("report.hidden_error" if exercise.withheld.error else "report.hidden_failed", language,
                        failed=exercise.withheld.failed, total=exercise.withheld.total)
            _detail(case, "error" if exercise.withheld.error else "failure", said, "", exercise.withheld.status)
        cases.append(case)
        durations.append(0.0)
    for case, seconds in zip(cases, _shares(durations, exercise.duration_s)):
        case.set("time", _seconds(seconds))
    suite.extend(cases)
    counts = {"failure": 0, "error": 0, "skipped": 0}
    for case in cases:
        for kind in counts:
            counts[kind] += len(case.findall(kind))
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(counts["failure"]))
    suite.set("errors", str(counts["error"]))
    suite.set("skipped", str(counts["skipped"]))
    suite.set("time", _seconds(exercise.duration_s))
    return suite


def _check_case(check: CheckResult, classname: str, file: str) -> ET.Element:
    name = f"{check.name}[{check.start_method}]" if check.start_method else check.name
    case = _case(name, classname, file)
    if file and check.line is not None:
        case.set("line", str(check.line))
    if check.status is Status.ERROR:
        _detail(case, "error", check.message, check.output, check.status)
    elif check.status is not Status.PASSED:
        _detail(case, "failure", check.message, check.output, check.status)
    return case


def _case(name: str, classname: str, file: str) -> ET.Element:
    """A test case without its time (set once all the cases of its suite are known)."""
    case = ET.Element("testcase", name=xml_safe(name), classname=xml_safe(classname))
    if file:
        case.set("file", xml_safe(file))
    return case


def _shares(durations: list[float], total_s: float) -> list[float]:
    """``durations`` scaled down by one factor, when they add up to more than ``total_s``,
    and rounded down to the millisecond: written as :func:`_seconds` writes them, they add
    up to at most ``total_s`` written so."""
    durations = [max(duration, 0.0) for duration in durations]
    whole = sum(durations)
    factor = min(1.0, max(total_s, 0.0) / whole) if whole > 0 else 0.0
    return [math.floor(duration * factor * 1000) / 1000 for duration in durations]


def _detail(case: ET.Element, kind: str, message: str, output: str, status: Status) -> None:
    first_line = message.strip().split("\n", 1)[0][:MESSAGE_ATTRIBUTE_CHARS]
    element = ET.SubElement(case, kind, message=xml_safe(first_line))
    if kind != "skipped":  # a skip has no type in the Ant-style schema
        element.set("type", status.value)
    body = message + (f"\n\n{output}" if output.strip() else "")
    if len(body) > TEXT_CHARS:
        body = body[:TEXT_CHARS] + f"\n[… {len(body) - TEXT_CHARS} more characters not shown]"
    element.text = xml_safe(body)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"
