"""Render a :class:`~grader.results.Report` for people (text) or programs (JSON)."""

from __future__ import annotations

import json
import textwrap

from grader.i18n import text
from grader.results import CheckResult, ExerciseResult, Report, Status

MARKS = {Status.PASSED: "✓", Status.FAILED: "✗", Status.TIMEOUT: "⧗", Status.ERROR: "!"}
OUTPUT_LINES = 15


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2)


def render_text(report: Report, language: str) -> str:
    blocks = [_exercise_block(result, language) for result in report.exercises]
    passed = sum(1 for result in report.exercises if result.status is Status.PASSED)
    summary = text("report.summary", language, passed=passed, total=len(report.exercises),
                   score=report.score, max_score=report.max_score)
    if report.seed is not None:
        summary += "\n" + text("report.seed", language, seed=report.seed)
    blocks.append(summary)
    return "\n\n".join(blocks) + "\n"


def _exercise_block(result: ExerciseResult, language: str) -> str:
    status = text(f"status.{result.status.value}", language)
    lines = [f"{MARKS[result.status]} {result.id} · {result.slug} · {result.title}   {status}   "
             f"{result.score}/{result.max_score}   ({result.duration_s:.1f} s)"]
    if result.problem:
        lines.append(textwrap.indent(result.problem, "    "))
    for group in _group(result.checks):
        first = group[0]
        names = ", ".join(dict.fromkeys(check.name for check in group))
        methods = ", ".join(dict.fromkeys(check.start_method for check in group if check.start_method))
        lines.append(f"  {MARKS[first.status]} {names}" + (f" [{methods}]" if methods else ""))
        if first.message:
            lines.append(textwrap.indent(first.message, "      "))
        if first.status is not Status.PASSED and first.output.strip():
            lines.append("      " + text("report.output", language))
            lines.append(textwrap.indent(_tail(first.output), "        | ", lambda _: True))
    if result.hint:
        lines.append("  " + text("report.hint", language, hint=result.hint))
    return "\n".join(lines)


def _group(checks: list[CheckResult]) -> list[list[CheckResult]]:
    """Checks that ended the same way (status and message) are shown once, together:
    the same check under several start methods, or several checks failing for one reason."""
    groups: dict[tuple[Status, str, str], list[CheckResult]] = {}
    for check in checks:
        key = (check.status, check.message, "" if check.message else check.name)
        groups.setdefault(key, []).append(check)
    return list(groups.values())


def _tail(output: str) -> str:
    lines = output.rstrip().splitlines()
    if len(lines) <= OUTPUT_LINES:
        return "\n".join(lines)
    return "\n".join(["...", *lines[-OUTPUT_LINES:]])
