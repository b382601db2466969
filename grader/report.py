"""Render a :class:`~grader.results.Report` for people (text) or programs (JSON).

Every renderer shows what students may see (:meth:`~grader.results.Report.for_students`:
hidden checks only counted) unless told ``teacher=True`` (``grade --teacher``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from grader.formats._common import methods, output_heading, shown_path, view
from grader.i18n import text
from grader.results import CheckResult, ExerciseResult, HiddenChecks, PullRequest, Report, Status
from grader.timeline import draw

MARKS = {Status.PASSED: "✓", Status.FAILED: "✗", Status.TIMEOUT: "⧗", Status.ERROR: "!"}
OUTPUT_LINES = 15


def render_json(report: Report, language: str = "en", teacher: bool = False) -> str:
    """The ``grade/1`` document (its texts are in the language the report was graded in)."""
    return json.dumps(view(report, teacher).to_json(), ensure_ascii=False, indent=2) + "\n"



@dataclass(frozen=True)
class Line:
    """A line of output and how a terminal may style it (plain output ignores the style)."""

    text: str
    style: str = ""  # a rich style: "green", "bold red", ... ('' for none)


STYLES = {Status.PASSED: "green", Status.FAILED: "red", Status.TIMEOUT: "yellow", Status.ERROR: "magenta"}


def render_text(report: Report, language: str, teacher: bool = False) -> str:
    return "\n".join(line.text for line in render_lines(report, language, teacher)) + "\n"


def render_lines(report: Report, language: str, teacher: bool = False) -> list[Line]:
    report = view(report, teacher)
    lines: list[Line] = []
    for result in report.exercises:
        lines += _exercise_block(result, language)
        lines.append(Line(""))
    passed = sum(1 for result in report.exercises if result.status is Status.PASSED)
    lines.append(Line(text("report.summary", language, passed=passed, total=len(report.exercises),
                           score=report.score, max_score=report.max_score), "bold " + STYLES[report.status]))
    if report.seed is not None:
        lines.append(Line(text("report.seed", language, seed=report.seed), "dim"))
    if report.pull_request is not None:
        lines += _pull_request(report.pull_request, bool(report.exercises), language)
    return lines


def _pull_request(pull_request: PullRequest, graded: bool, language: str) -> list[Line]:
    """What ``grade ci`` graded with, and the changed files it did not use."""
    lines = [Line(text("ci.graded_with", language, base=shown_path(pull_request.base),
                       commit=pull_request.commit[:12]), "dim")]
    if not graded:
        lines.append(Line(text("ci.nothing_changed", language)))
    if pull_request.ignored:
        lines.append(Line(text("markdown.ignored", language, count=len(pull_request.ignored)), "yellow"))
        lines += [Line(f"  {shown_path(path)}", "yellow") for path in pull_request.ignored]
    return lines


def _exercise_block(result: ExerciseResult, language: str) -> list[Line]:
    status = text(f"status.{result.status.value}", language)
    lines = [Line(f"{MARKS[result.status]} {result.id} · {result.slug} · {result.title}   {status}   "
                  f"{result.score}/{result.max_score}   ({result.duration_s:.1f} s)", "bold " + STYLES[result.status])]
    if result.problem:
        lines += _indented(result.problem, "    ")
    timelines: list[dict] = []
    for group, variants in _merge_variants(_group(result.checks)):
        first = group[0]
        shown = group + [check for variant in variants for check in variant]
        names = ", ".join(dict.fromkeys(check.name for check in group))
        shown_methods = methods(shown)
        lines.append(Line(f"  {MARKS[first.status]} {names}" + (f" [{shown_methods}]" if shown_methods else "")
                          + _worth(result, group, language)
                          + ("  " + text("report.hidden_tag", language) if first.hidden else ""),
                          STYLES[first.status]))
        if first.message:
            lines += _indented(first.message, "      ")
        said = set(first.message.split("\n"))
        for variant in variants:  # the same check failing the same way elsewhere: what differs, in brief
            tag = "[" + ", ".join(dict.fromkeys(check.start_method or "?" for check in variant)) + "] "
            lines += [Line("      " + tag + line, "dim") for line in variant[0].message.split("\n")
                      if line.strip() and line not in said]
        if first.timeline and first.timeline not in timelines:  # each call's timeline once
            timelines.append(first.timeline)
            lines.append(Line("      " + text("timeline.title", language, call=first.timeline["call"])))
            lines += [Line("        " + row) for row in draw(first.timeline, language)]
        if first.status is not Status.PASSED and first.output.strip():
            lines.append(Line("      " + text(output_heading(first.status), language), "dim"))
            lines += _indented(_tail(first.output, language), "        | ", "dim", every_line=True)
    if result.withheld is not None:
        lines.append(_withheld(result.withheld, result.partial_credit, language))
    if result.hint:
        lines.append(Line("  " + text("report.hint", language, hint=result.hint), "cyan"))
    return lines


def _worth(result: ExerciseResult, group: list[CheckResult], language: str) -> str:
    """What the checks of a line are worth, under partial credit: "  · 2 points", "  · 2 + 1 points"."""
    if not result.partial_credit:
        return ""
    worth = [result.points_of(name) for name in dict.fromkeys(check.name for check in group)]
    key = "report.point" if worth == [1] else "report.points"
    return "  · " + text(key, language, points=" + ".join(map(str, worth)))


def _withheld(hidden: HiddenChecks, partial_credit: bool, language: str) -> Line:
    """The one line a student sees of an exercise's hidden checks: how many did not pass,
    and the points they cost."""
    if not hidden.failed:
        return Line(f"  {MARKS[Status.PASSED]} " + text("report.hidden_passed", language, total=hidden.total),
                    STYLES[Status.PASSED])
    said = text("report.hidden_error" if hidden.error else "report.hidden_failed", language,
                failed=hidden.failed, total=hidden.total)
    if partial_credit:
        said += " " + text("report.hidden_lost", language, lost=hidden.points - hidden.earned, points=hidden.points)
    return Line(f"  {MARKS[hidden.status]} {said}", STYLES[hidden.status])


def _indented(block: str, prefix: str, style: str = "", every_line: bool = False) -> list[Line]:
    """``block``'s lines with ``prefix`` (as textwrap.indent: blank lines stay blank unless ``every_line``)."""
    return [Line(prefix + line if every_line or line.strip() else line, style) for line in block.split("\n")]


def _merge_variants(groups: list[list[CheckResult]]) -> list[tuple[list[CheckResult], list[list[CheckResult]]]]:
    """One failing check whose message differs between start methods (other numbers,
    other pids) is shown once: the first message in full, the others by the lines that
    differ (:func:`_exercise_block`). Returns each group with its variants."""
    merged: list[tuple[list[CheckResult], list[list[CheckResult]]]] = []
    first_of: dict[tuple[str, Status], list[list[CheckResult]]] = {}
    for group in groups:
        names = {check.name for check in group}
        key = (group[0].name, group[0].status)
        if len(names) == 1 and group[0].status is not Status.PASSED and group[0].message and key in first_of:
            first_of[key].append(group)
            continue
        variants: list[list[CheckResult]] = []
        if len(names) == 1:
            first_of[key] = variants
        merged.append((group, variants))
    return merged


def _group(checks: list[CheckResult]) -> list[list[CheckResult]]:
    """Checks that ended the same way (status and message) are shown once, together:
    the same check under several start methods, or several checks failing for one reason
    (never a hidden check with a visible one)."""
    groups: dict[tuple[Status, str, str, bool], list[CheckResult]] = {}
    for check in checks:
        key = (check.status, check.message, "" if check.message else check.name, check.hidden)
        groups.setdefault(key, []).append(check)
    return list(groups.values())


def _tail(output: str, language: str) -> str:
    """The last :data:`OUTPUT_LINES` lines of ``output`` (where a traceback ends: the
    exception), whole lines only, after a note saying how many lines are not shown."""
    lines = output.rstrip().splitlines()
    if len(lines) <= OUTPUT_LINES:
        return "\n".join(lines)
    note = text("report.output_cut", language, count=len(lines) - OUTPUT_LINES)
    return "\n".join([note, *lines[-OUTPUT_LINES:]])
