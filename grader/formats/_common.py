"""What several formats share: the reader's view, check groups, text safe for XML."""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.results import CheckResult, Report, Status

# Characters XML 1.0 cannot hold at all (a submission may print any byte): shown as U+FFFD.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def view(report: Report, teacher: bool) -> Report:
    """The report as its reader may see it: all of it for a teacher, else the students' view."""
    return report if teacher else report.for_students()


# Control characters, and the marks that reorder what a terminal shows (bidirectional overrides).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
PATH_CHARS = 200


def shown_path(path: str) -> str:
    """A file or student name as it may be shown: no control characters (a line break, a
    terminal escape, a bidirectional override), at most :data:`PATH_CHARS` characters."""
    path = _CONTROL.sub("\ufffd", path)
    return path if len(path) <= PATH_CHARS else path[:PATH_CHARS - 1] + "…"


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def by_check(checks: list[CheckResult]) -> dict[str, list[CheckResult]]:
    """Results per check name (one per start method it ran under), in order."""
    grouped: dict[str, list[CheckResult]] = {}
    for check in checks:
        grouped.setdefault(check.name, []).append(check)
    return grouped


def worst(checks: list[CheckResult]) -> Status:
    """Error, timeout, failed or passed: the worst status among ``checks``."""
    statuses = {check.status for check in checks}
    return next((status for status in (Status.ERROR, Status.TIMEOUT, Status.FAILED) if status in statuses),
                Status.PASSED)


def methods(checks: list[CheckResult]) -> str:
    """``fork, spawn``: the start methods of ``checks``, in order, once each."""
    return ", ".join(dict.fromkeys(check.start_method for check in checks if check.start_method))


@dataclass(frozen=True)
class Failure:
    """One message of failure and the checks that gave it (several checks, or one check
    under several start methods, often fail for one reason: said once)."""

    checks: list[CheckResult]

    @property
    def first(self) -> CheckResult:
        return self.checks[0]

    @property
    def names(self) -> str:
        return ", ".join(dict.fromkeys(check.name for check in self.checks))

    @property
    def methods(self) -> str:
        return methods(self.checks)


def failures(checks: list[CheckResult]) -> list[Failure]:
    """The failures among ``checks``, each message once, in the order they came."""
    grouped: dict[str, list[CheckResult]] = {}
    for check in checks:
        if check.status is not Status.PASSED:
            grouped.setdefault(check.message, []).append(check)
    return [Failure(group) for group in grouped.values()]


def output_heading(status: Status) -> str:
    """The catalogue key heading a check's output: a check in error is a fault of the
    grader (or of its checks), and its output is the grader's traceback, not the student's."""
    return "report.grader_output" if status is Status.ERROR else "report.output"
