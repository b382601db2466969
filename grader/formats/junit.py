"""``junit``: JUnit XML, as CI systems render test reports (GitHub, GitLab, Jenkins).

One ``<testsuite>`` per exercise, one ``<testcase>`` per check and start method
(``test_values[spawn]``, class name ``exercise-3.queue``); a failed or timed-out check is
a ``<failure>``, a check that could not be graded an ``<error>``, with the message as the
``message`` attribute's first line and the message and output as text. An exercise that
could not be graded at all is one test case ``exercise-3`` with an ``<error>`` (or
``<skipped>``, when the run was interrupted before it). In a students' view the hidden
checks are one test case, ``hidden checks``, failing with how many failed.
The structure follows the common JUnit schema (Jenkins' ``junit-10.xsd``).
"""

from __future__ import annotations

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
    root.set("time", _seconds(sum(e.duration_s for e in report.exercises)))
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
    if exercise.problem:
        case = _case(exercise.id, classname, exercise.duration_s)
        kind = "skipped" if interrupted and not exercise.checks else "error"
        _detail(case, kind, exercise.problem, "", Status.ERROR)
        cases.append(case)
    for check in exercise.checks:
        cases.append(_check_case(check, classname))
    if exercise.withheld is not None:
        case = _case(text("junit.hidden_checks", language), classname, 0.0)
        if exercise.withheld.failed:
            said = text("report.hidden_error" if exercise.withheld.error else "report.hidden_failed", language,
                        failed=exercise.withheld.failed, total=exercise.withheld.total)
            _detail(case, "error" if exercise.withheld.error else "failure", said, "", exercise.withheld.status)
        cases.append(case)
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
    if exercise.file:
        suite.set("file", exercise.file)
    return suite


def _check_case(check: CheckResult, classname: str) -> ET.Element:
    name = f"{check.name}[{check.start_method}]" if check.start_method else check.name
    case = _case(name, classname, check.duration_s)
    if check.status is Status.ERROR:
        _detail(case, "error", check.message, check.output, check.status)
    elif check.status is not Status.PASSED:
        _detail(case, "failure", check.message, check.output, check.status)
    return case


def _case(name: str, classname: str, duration_s: float) -> ET.Element:
    return ET.Element("testcase", name=xml_safe(name), classname=xml_safe(classname), time=_seconds(duration_s))


def _detail(case: ET.Element, kind: str, message: str, output: str, status: Status) -> None:
    first_line = message.strip().split("\n", 1)[0][:MESSAGE_ATTRIBUTE_CHARS]
    element = ET.SubElement(case, kind, message=xml_safe(first_line), type=status.value)
    body = message + (f"\n\n{output}" if output.strip() else "")
    if len(body) > TEXT_CHARS:
        body = body[:TEXT_CHARS] + f"\n[… {len(body) - TEXT_CHARS} more characters not shown]"
    element.text = xml_safe(body)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"
