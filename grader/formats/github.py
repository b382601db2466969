"""``github``: GitHub Actions workflow commands, so each failure is annotated in the pull
request's diff on the line of the student's file where the grader saw it
(:attr:`~grader.results.CheckResult.line`: where the call raised or hung, else the
``def`` of the function it called; the file's first line when neither is known).

One ``::error`` per distinct failure (the checks and start methods that failed alike together),
one per exercise that could not be graded, a ``::warning`` per changed file ``grade ci``
did not use, and a ``::notice`` with the score. GitHub shows at most 10 errors of a
step in the diff: the most useful come first (exercise order, then check order).
Values are escaped as the runner expects (``%``, CR and LF; in properties also ``:``
and ``,``), so a submission's output can never inject a command of its own.
"""

from __future__ import annotations

from grader.formats._common import failures, shown_path, view
from grader.i18n import text
from grader.results import Report, Status

MESSAGE_CHARS = 4_000


def render(report: Report, language: str, teacher: bool = False) -> str:
    report = view(report, teacher)
    commands: list[str] = []
    for exercise in report.exercises:
        location = {"file": exercise.file} if exercise.file and not exercise.file.startswith("/") else {}
        if exercise.problem:
            commands.append(_command("error", exercise.problem, **location, title=f"{exercise.id} · {exercise.title}"))
        for failure in failures(exercise.checks):
            where = dict(location, line=str(failure.first.line or 1)) if location else {}
            commands.append(_command("error", failure.first.message, **where,
                                     title=f"{exercise.id} · {failure.names} [{failure.methods}]"))
        hidden = exercise.withheld
        if hidden is not None and hidden.failed:
            said = text("report.hidden_error" if hidden.error else "report.hidden_failed", language,
                        failed=hidden.failed, total=hidden.total)
            commands.append(_command("error", said, **location, title=exercise.id))
    if report.pull_request is not None:
        for path in report.pull_request.ignored:
            commands.append(_command("warning", text("github.ignored", language), file=shown_path(path),
                                     title="grade ci"))
    passed = sum(1 for exercise in report.exercises if exercise.status is Status.PASSED)
    commands.append(_command("notice", text("report.summary", language, passed=passed, total=len(report.exercises),
                                            score=report.score, max_score=report.max_score), title="grade"))
    return "\n".join(commands) + "\n"


def _command(kind: str, message: str, **properties: str) -> str:
    if len(message) > MESSAGE_CHARS:
        message = message[:MESSAGE_CHARS] + " […]"
    listed = ",".join(f"{name}={_escape_property(value)}" for name, value in properties.items())
    return f"::{kind}{' ' + listed if listed else ''}::{_escape_data(message)}"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")
