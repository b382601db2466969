"""``markdown``: a table of the exercises and their scores, then each failure with its
feedback, for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

GitHub caps a comment at 65,536 characters and a step summary at 1 MiB; the document
stays under :data:`LIMIT` characters: the table always, then failures while they fit,
then a line saying how many were left out (the JSON and JUnit files have them all).
A submission's output is shown in a fence longer than any run of backticks in it, so
what it printed can never close the fence and turn into markdown.
"""

from __future__ import annotations

import re

from grader.formats._common import failures, output_heading, shown_path, view
from grader.i18n import text
from grader.results import ExerciseResult, Report, Status
from grader.timeline import draw

LIMIT = 60_000
OUTPUT_LINES = 30
ICONS = {Status.PASSED: "✅", Status.FAILED: "❌", Status.TIMEOUT: "⏱️", Status.ERROR: "⚠️"}


def render(report: Report, language: str, teacher: bool = False) -> str:
    report = view(report, teacher)
    passed = sum(1 for exercise in report.exercises if exercise.status is Status.PASSED)
    head = [f"## {ICONS[report.status]} " + text("report.summary", language, passed=passed,
                                                 total=len(report.exercises), score=report.score,
                                                 max_score=report.max_score), ""]
    head += _table(report, language)
    if report.pull_request is not None:
        head += [""] + _pull_request(report, language)
    blocks = [_exercise(exercise, language) for exercise in report.exercises if exercise.status is not Status.PASSED]
    body: list[str] = []
    size = sum(len(line) + 1 for line in head)
    for index, block in enumerate(blocks):
        block_size = sum(len(line) + 1 for line in block)
        if size + block_size > LIMIT:
            body += ["", "> " + text("markdown.cut", language, count=len(blocks) - index)]
            break
        body += block
        size += block_size
    tail = ["", "<sub>" + _escape(text("report.seed", language, seed=report.seed)) + "</sub>"] \
        if report.seed is not None else []
    return "\n".join(head + body + tail) + "\n"


def _table(report: Report, language: str) -> list[str]:
    rows = ["| | " + " | ".join(text(f"markdown.{column}", language) for column in
                                 ("exercise", "status", "score", "time")) + " |", "|---|---|---|---:|---:|"]
    for exercise in report.exercises:
        rows.append(f"| {ICONS[exercise.status]} | {_escape(exercise.id)} · {_escape(exercise.title)} | "
                    f"{text(f'status.{exercise.status.value}', language)} | {exercise.score}/{exercise.max_score} | "
                    f"{exercise.duration_s:.1f} s |")
    return rows


def _pull_request(report: Report, language: str) -> list[str]:
    pull_request = report.pull_request
    assert pull_request is not None
    lines = [_escape(text("ci.graded_with", language, base=shown_path(pull_request.base),
                          commit=pull_request.commit[:12]))]
    if not report.exercises:
        lines += ["", _escape(text("ci.nothing_changed", language))]
    if pull_request.ignored:
        lines += ["", text("markdown.ignored", language, count=len(pull_request.ignored)), ""]
        lines += [f"- {_code(shown_path(path))}" for path in pull_request.ignored[:50]]
        if len(pull_request.ignored) > 50:
            lines.append(f"- … {len(pull_request.ignored) - 50}")
    return lines


def _exercise(exercise: ExerciseResult, language: str) -> list[str]:
    status = text(f"status.{exercise.status.value}", language)
    lines = ["", f"### {ICONS[exercise.status]} {_escape(exercise.id)} · {_escape(exercise.title)}: {status}"]
    if exercise.problem:
        lines += [""] + _fence(exercise.problem)
    for failure in failures(exercise.checks):
        first = failure.first
        where = f" · {_code(exercise.file)}" + (f" line {first.line}" if first.line else "") if exercise.file else ""
        lines += ["", f"**{_escape(failure.names)}** [{failure.methods}]{where}", ""]
        lines += _fence(first.message)
        if first.timeline:
            lines += ["", _escape(text("timeline.title", language, call=first.timeline["call"])), ""]
            lines += _fence("\n".join(draw(first.timeline, language)))
        if first.output.strip():
            shown = first.output.rstrip().split("\n")
            if len(shown) > OUTPUT_LINES:
                shown = [text("report.output_cut", language, count=len(shown) - OUTPUT_LINES)] + shown[-OUTPUT_LINES:]
            lines += ["", "<details><summary>" + _escape(text(output_heading(first.status), language).rstrip(":："))
                      + "</summary>", ""] + _fence("\n".join(shown)) + ["", "</details>"]
    if exercise.withheld is not None and exercise.withheld.failed:
        lines += ["", "- " + _escape(text("report.hidden_error" if exercise.withheld.error else "report.hidden_failed",
                                          language, failed=exercise.withheld.failed, total=exercise.withheld.total))]
    if exercise.hint:
        # The course's own text (markdown it may use, as `code`), not the submission's.
        lines += ["", "> 💡 " + text("report.hint", language, hint=exercise.hint).replace("\n", "\n> ")]
    return lines


def _fence(content: str) -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", content.rstrip("\n"), fence]


def _code(value: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    ticks = "`" * (longest + 1)
    return f"{ticks} {value} {ticks}" if longest else f"`{value}`"


def _escape(value: str) -> str:
    """Text that markdown shows as it is: no table cell split, no HTML, no emphasis."""
    return re.sub(r"([\\`*_{}\[\]<>|#])", r"\\\1", value).replace("\n", " ")
