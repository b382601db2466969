"""``github``: GitHub Actions workflow commands, so each failure is annotated in the pull
request's diff on the line of the student's file where the grader saw it
(:attr:`~grader.results.CheckResult.line`: where the call raised or hung, else the
``def`` of the function it called; the file's first line when neither is known; a
syntax error on its own line, :attr:`~grader.results.ExerciseResult.line`).

One ``::error`` per distinct failure (the checks and start methods that failed alike together),
one per exercise that could not be graded, a ``::warning`` per changed file ``grade ci``
did not use, and a ``::notice`` with the score. GitHub annotates at most
:data:`ANNOTATIONS_PER_STEP` errors (and as many warnings) of a step in the diff, in the
order they were printed: so each exercise's most useful error comes first (why it could
not be graded, else its first failing check, else its hidden checks' count), in exercise
order, then the others; past the limit, a ``::notice`` says how many the diff does not
show (every one is still in the step's log).
Values are escaped as the runner expects (``%``, CR and LF; in properties also ``:``
and ``,``), so a submission's output can never inject a command of its own.
"""

from __future__ import annotations

from grader.formats._common import failures, shown_path, view
from grader.i18n import text
from grader.results import ExerciseResult, Report, Status

MESSAGE_CHARS = 4_000
# What GitHub annotates of one step, per kind (error, warning, notice): the rest is only in its log.
ANNOTATIONS_PER_STEP = 10


def render(report: Report, language: str, teacher: bool = False) -> str:
    report = view(report, teacher)
    per_exercise = [_errors(exercise, language) for exercise in report.exercises]
    errors = [annotations[0] for annotations in per_exercise if annotations]
    errors += [command for annotations in per_exercise for command in annotations[1:]]
    warnings = [_command("warning", text("github.ignored", language), file=shown_path(path), title="grade ci")
                for path in (report.pull_request.ignored if report.pull_request is not None else [])]
    notices = []
    if len(errors) > ANNOTATIONS_PER_STEP:
        notices.append(_command("notice", text("github.errors_not_annotated", language, limit=ANNOTATIONS_PER_STEP,
                                               count=len(errors) - ANNOTATIONS_PER_STEP), title="grade"))
    if len(warnings) > ANNOTATIONS_PER_STEP:
        notices.append(_command("notice", text("github.warnings_not_annotated", language, limit=ANNOTATIONS_PER_STEP,
                                               count=len(warnings) - ANNOTATIONS_PER_STEP), title="grade ci"))
    passed = sum(1 for exercise in report.exercises if exercise.status is Status.PASSED)
    notices.append(_command("notice", text("report.summary", language, passed=passed, total=len(report.exercises),
                                           score=report.score, max_score=report.max_score), title="grade"))
    return "\n".join(errors + warnings + notices) + "\n"


def _errors(exercise: ExerciseResult, language: str) -> list[str]:
    """The exercise's errors, the most useful first: why it could not be graded, or each
    distinct failure in check order, then its hidden checks' count."""
    location = {"file": exercise.file} if exercise.file and not exercise.file.startswith("/") else {}
    commands: list[str] = []
    if exercise.problem:
        where = dict(location, line=str(exercise.line)) if location and exercise.line is not None else location
        commands.append(_command("error", exercise.problem, **where, title=f"{exercise.id} · {exercise.title}"))
    for failure in failures(exercise.checks):
        where = dict(location, line=str(failure.first.line or 1)) if location else {}
        commands.append(_command("error", failure.first.message, **where,
                                 title=f"{exercise.id} · {failure.names} [{failure.methods}]"))
    hidden = exercise.withheld
    if hidden is not None and hidden.failed:
        said = text("report.hidden_error" if hidden.error else "report.hidden_failed", language,
                    failed=hidden.failed, total=hidden.total)
        commands.append(_command("error", said, **location, title=exercise.id))
    return commands


def _command(kind: str, message: str, **properties: str) -> str:
    if len(message) > MESSAGE_CHARS:
        message = message[:MESSAGE_CHARS] + " […]"
    listed = ",".join(f"{name}={_escape_property(value)}" for name, value in properties.items())
    return f"::{kind}{' ' + listed if listed else ''}::{_escape_data(message)}"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")
