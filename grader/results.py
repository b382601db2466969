"""Results of a grading run: plain dataclasses and a :class:`Status` enum.

They are what every output format is made from; ``to_json`` gives the ``grade/1``
schema documented in the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

SCHEMA = "grade/1"


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # could not be graded: missing file, syntax error, grader fault
    TIMEOUT = "timeout"  # a call of the submission outlived its timeout


@dataclass
class CheckResult:
    name: str
    start_method: str | None
    status: Status
    message: str = ""
    output: str = ""
    duration_s: float = 0.0
    timeline: dict | None = None  # what the processes did in the call that failed (grader.timeline)

    def to_json(self) -> dict:
        return {"name": self.name, "start_method": self.start_method, "status": self.status.value,
                "message": self.message, "output": self.output, "duration_s": round(self.duration_s, 3),
                "timeline": self.timeline}


@dataclass
class ExerciseResult:
    id: str
    slug: str
    title: str
    max_score: int
    checks: list[CheckResult] = field(default_factory=list)
    problem: str = ""  # why the exercise could not be graded (status error)
    hint: str = ""  # the exercise's hint for the cause of its failure ('' when none explains it)
    duration_s: float = 0.0

    @property
    def status(self) -> Status:
        if self.problem:
            return Status.ERROR
        statuses = {check.status for check in self.checks}
        if not statuses:
            return Status.ERROR
        for status in (Status.ERROR, Status.TIMEOUT, Status.FAILED):
            if status in statuses:
                return status
        return Status.PASSED

    @property
    def score(self) -> int:
        return self.max_score if self.status is Status.PASSED else 0

    def to_json(self) -> dict:
        return {"id": self.id, "slug": self.slug, "status": self.status.value, "score": self.score,
                "max_score": self.max_score, "duration_s": round(self.duration_s, 3),
                "message": self.problem, "hint": self.hint, "checks": [check.to_json() for check in self.checks]}


@dataclass
class Report:
    exercises: list[ExerciseResult]
    seed: int | None = None  # the inputs' seed: ``--seed`` reproduces the run
    interrupted: bool = False  # stopped by Ctrl-C: what was not graded says so

    @property
    def status(self) -> Status:
        return Status.PASSED if all(e.status is Status.PASSED for e in self.exercises) else Status.FAILED

    @property
    def score(self) -> int:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> int:
        return sum(e.max_score for e in self.exercises)

    def to_json(self) -> dict:
        return {"schema": SCHEMA, "status": self.status.value, "score": self.score,
                "max_score": self.max_score, "seed": self.seed, "exercises": [e.to_json() for e in self.exercises]}
