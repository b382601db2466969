"""Results of a grading run: plain dataclasses and a :class:`Status` enum.

They are what every output format is made from; ``to_json`` gives the ``grade/1``
schema documented in the README. The model is complete: hidden checks are in it like
any other (``hidden``). What students may see of it is :meth:`Report.for_students`, the
one place hidden checks are taken out (replaced by counts): every student-facing
renderer calls it, only ``grade --teacher`` renders the model as it is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

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
    points: int | None = None  # what it is worth when its exercise gives partial credit (None: all or nothing)
    hidden: bool = False  # never shown to students (Report.for_students)
    line: int | None = None  # the line of the graded file where the failure shows (Run.failure_line)
    causes: list[str] = field(default_factory=list)  # catalogue keys of the failure, most telling first

    def to_json(self) -> dict:
        return {"name": self.name, "start_method": self.start_method, "status": self.status.value,
                "message": self.message, "output": self.output, "duration_s": round(self.duration_s, 3),
                "timeline": self.timeline, "points": self.points, "hidden": self.hidden, "line": self.line,
                "causes": self.causes}

    @classmethod
    def from_json(cls, data: dict) -> CheckResult:
        return cls(name=data["name"], start_method=data["start_method"], status=Status(data["status"]),
                   message=data["message"], output=data["output"], duration_s=data["duration_s"],
                   timeline=data["timeline"], points=data["points"], hidden=data["hidden"], line=data.get("line"),
                   causes=list(data.get("causes", [])))


@dataclass(frozen=True)
class HiddenChecks:
    """What students are told of an exercise's hidden checks: how many there are, how many
    did not pass, the points they are worth and earned (0 unless partial credit), and
    whether one could not be graded. Never a name, message, output or timeline."""

    total: int
    failed: int
    points: int = 0
    earned: int = 0
    error: bool = False  # a fault of the grader or of the course, not the student's

    @property
    def status(self) -> Status:
        """Error, failed or passed: a hidden timeout counts as failed (its kind is a clue)."""
        return Status.ERROR if self.error else Status.FAILED if self.failed else Status.PASSED

    def to_json(self) -> dict:
        return {"total": self.total, "failed": self.failed, "points": self.points,
                "points_lost": self.points - self.earned, "error": self.error}

    @classmethod
    def from_json(cls, data: dict) -> HiddenChecks:
        return cls(total=data["total"], failed=data["failed"], points=data["points"],
                   earned=data["points"] - data["points_lost"], error=data.get("error", False))


@dataclass
class ExerciseResult:
    """One exercise's grading. All or nothing (the default), it scores ``max_score`` (its
    ``points``) when it passed; with ``partial_credit``, each check scores its points when
    it passed under every start method it ran under, and ``max_score`` is their sum."""

    id: str
    slug: str
    title: str
    max_score: int
    checks: list[CheckResult] = field(default_factory=list)
    problem: str = ""  # why the exercise could not be graded (status error)
    hint: str = ""  # the hint for the cause of its visible checks' failure ('' when none explains it)
    duration_s: float = 0.0
    partial_credit: bool = False
    withheld: HiddenChecks | None = None  # in a student's view: what stands for the hidden checks taken out
    file: str = ""  # the file graded, relative to the course folder when inside it (exercises/ex03_queue.py)
    line: int | None = None  # the line of the file a problem points at (a syntax error's), when known

    @property
    def status(self) -> Status:
        if self.problem:
            return Status.ERROR
        statuses = {check.status for check in self.checks}
        if self.withheld is not None:
            statuses.add(self.withheld.status)
        if not statuses:
            return Status.ERROR
        for status in (Status.ERROR, Status.TIMEOUT, Status.FAILED):
            if status in statuses:
                return status
        return Status.PASSED

    @property
    def score(self) -> int:
        if not self.partial_credit:
            return self.max_score if self.status is Status.PASSED else 0
        if self.problem:
            return 0
        earned = sum(self.points_of(name) for name, passed in self.passed().items() if passed)
        return earned + (self.withheld.earned if self.withheld is not None else 0)

    def passed(self, hidden: bool | None = None) -> dict[str, bool]:
        """Per check name (only the hidden or the visible ones, when ``hidden`` says): whether
        it passed under every start method it ran under."""
        verdicts: dict[str, bool] = {}
        for check in self.checks:
            if hidden is None or check.hidden == hidden:
                verdicts[check.name] = verdicts.get(check.name, True) and check.status is Status.PASSED
        return verdicts

    def points_of(self, name: str) -> int:
        """What the check ``name`` is worth (0 when the exercise scores all or nothing)."""
        return next((check.points or 0 for check in self.checks if check.name == name), 0)

    def hidden_checks(self) -> HiddenChecks | None:
        """The hidden checks, counted (None when the exercise has none)."""
        if self.withheld is not None:
            return self.withheld
        passed = self.passed(hidden=True)
        if not passed:
            return None
        return HiddenChecks(total=len(passed), failed=sum(not ok for ok in passed.values()),
                            points=sum(self.points_of(name) for name in passed),
                            earned=sum(self.points_of(name) for name, ok in passed.items() if ok),
                            error=any(check.hidden and check.status is Status.ERROR for check in self.checks))

    def for_students(self) -> ExerciseResult:
        """This result without its hidden checks, counted in :attr:`withheld` instead: the
        same score, and the same status except that a hidden timeout shows as a failure."""
        if not any(check.hidden for check in self.checks):
            return self
        return dataclasses.replace(self, checks=[check for check in self.checks if not check.hidden],
                                   withheld=self.hidden_checks())

    def to_json(self) -> dict:
        hidden = self.hidden_checks()
        return {"id": self.id, "slug": self.slug, "title": self.title, "file": self.file,
                "status": self.status.value, "score": self.score,
                "max_score": self.max_score, "partial_credit": self.partial_credit,
                "duration_s": round(self.duration_s, 3), "message": self.problem, "line": self.line, "hint": self.hint,
                "checks": [check.to_json() for check in self.checks],
                "hidden_checks": hidden.to_json() if hidden is not None else None}

    @classmethod
    def from_json(cls, data: dict, redacted: bool) -> ExerciseResult:
        """The result ``to_json`` gave (``redacted``: from a students' view, whose hidden
        checks are only counted); its status and score are derived again, not read."""
        hidden = data["hidden_checks"]
        return cls(id=data["id"], slug=data["slug"], title=data.get("title", data["slug"]),
                   max_score=data["max_score"], file=data.get("file", ""), checks=[CheckResult.from_json(check) for check in data["checks"]],
                   problem=data["message"], line=data.get("line"), hint=data["hint"], duration_s=data["duration_s"],
                   partial_credit=data["partial_credit"],
                   withheld=HiddenChecks.from_json(hidden) if redacted and hidden is not None else None)


@dataclass(frozen=True)
class PullRequest:
    """What ``grade ci`` graded: the working tree's exercise files, with everything else
    (checks, manifest, grader) from the trusted ``base``; ``ignored``: the files the pull
    request changed that grading did not use."""

    base: str  # the ref as given (origin/main)
    commit: str  # the commit it resolved to
    changed: list[str] = field(default_factory=list)  # exercise files changed, relative to the course folder
    ignored: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"base": self.base, "commit": self.commit, "changed": self.changed, "ignored": self.ignored}

    @classmethod
    def from_json(cls, data: dict) -> PullRequest:
        return cls(base=data["base"], commit=data["commit"], changed=data["changed"], ignored=data["ignored"])


@dataclass
class Report:
    exercises: list[ExerciseResult]
    seed: int | None = None  # the inputs' seed: ``--seed`` reproduces the run
    interrupted: bool = False  # stopped by Ctrl-C: what was not graded says so
    redacted: bool = False  # made by for_students(): no hidden check in it
    pull_request: PullRequest | None = None  # set by ``grade ci``
    duration_s: float | None = None  # the run's wall time (its exercises' times overlap); None when not known

    @property
    def status(self) -> Status:
        return Status.PASSED if all(e.status is Status.PASSED for e in self.exercises) else Status.FAILED

    @property
    def score(self) -> int:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> int:
        return sum(e.max_score for e in self.exercises)

    def name_files(self, folder: Path, shown: dict[str, str]) -> None:
        """Name each exercise's file as its reader knows it (``shown``, by exercise id:
        ``exercises/ex03_queue.py``) where the report names the copy graded in ``folder``
        (a scratch folder of grade ci, grade batch or an autograder): its ``file``, and
        its feedback."""
        for exercise in self.exercises:
            name = shown.get(exercise.id)
            if name is None:
                continue
            copies = {str(folder / Path(exercise.file).name), str(folder.resolve() / Path(exercise.file).name)}
            exercise.file = name
            for copy in copies:
                exercise.problem = exercise.problem.replace(copy, name)
                for check in exercise.checks:
                    check.message = check.message.replace(copy, name)
                    check.output = check.output.replace(copy, name)

    def for_students(self) -> Report:
        """What a student may see: every exercise without its hidden checks (counted instead)."""
        return dataclasses.replace(self, exercises=[e.for_students() for e in self.exercises], redacted=True)

    def to_json(self) -> dict:
        return {"schema": SCHEMA, "view": "student" if self.redacted else "teacher", "status": self.status.value,
                "score": self.score, "max_score": self.max_score, "seed": self.seed,
                "interrupted": self.interrupted,
                "duration_s": round(self.duration_s, 3) if self.duration_s is not None else None,
                "pull_request": self.pull_request.to_json() if self.pull_request is not None else None,
                "exercises": [e.to_json() for e in self.exercises]}

    @classmethod
    def from_json(cls, data: dict) -> Report:
        """The report ``to_json`` gave (a ``grade --format json`` document of this schema;
        the fields added since the schema began may be missing). A document of another
        schema, or missing a field it always had, raises ``ValueError``."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document")
        try:
            redacted = data["view"] == "student"
            pull_request = data.get("pull_request")
            return cls(exercises=[ExerciseResult.from_json(e, redacted) for e in data["exercises"]],
                       seed=data["seed"], interrupted=data.get("interrupted", False), redacted=redacted,
                       duration_s=data.get("duration_s"),
                       pull_request=PullRequest.from_json(pull_request) if pull_request is not None else None)
        except (KeyError, TypeError) as error:
            raise ValueError(f"a {SCHEMA} document without a field it needs ({error})") from error
