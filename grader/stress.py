"""``grade N --stress RUNS``: grade the same submission many times and count each check's
verdicts, so a race that bites only sometimes is seen (and a flaky check is caught).

Each run draws new inputs (its own seed, shown for every failure so that ``--seed``
gives it back; with ``--seed S``, the first run is graded with S itself and the others
with seeds drawn from S; the output lists the seeds that ran). The runs are sequential:
run at the same time on a small machine they would change the timing they are meant to
sample.

Students see an exercise's hidden checks as one line, "(hidden checks)", failed in a run
when any of them failed (:meth:`~grader.results.Report.for_students`); teachers
(``--teacher``) see each of them.
"""

from __future__ import annotations

import collections
import dataclasses
import random
from dataclasses import dataclass, field

from grader.i18n import columns, fit, text
from grader.report import STYLES, Line
from grader.results import Report, Status
from grader.runner import Observer, Options, run

MAX_SEEDS_SHOWN = 5
EXERCISE = "(exercise)"  # the tally of an exercise that could not be graded at all
HIDDEN = "(hidden checks)"  # the tally of an exercise's hidden checks, all together (students' view)


@dataclass
class Tally:
    """The verdicts of one check under one start method over the runs."""

    exercise_id: str
    name: str
    start_method: str | None
    hidden: bool = False
    verdicts: collections.Counter = field(default_factory=collections.Counter)  # Status -> runs
    failing_seeds: list[int] = field(default_factory=list)

    @property
    def runs(self) -> int:
        return sum(self.verdicts.values())

    @property
    def passed(self) -> int:
        return self.verdicts[Status.PASSED]

    @property
    def flaky(self) -> bool:
        """Different verdicts on different runs."""
        return len(self.verdicts) > 1

    def to_json(self) -> dict:
        return {"exercise": self.exercise_id, "name": self.name, "start_method": self.start_method,
                "hidden": self.hidden, "runs": self.runs,
                "verdicts": {status.value: count for status, count in self.verdicts.items()},
                "failing_seeds": self.failing_seeds}


@dataclass
class StressReport:
    runs: int
    tallies: list[Tally]
    reports: list[Report]  # every run's report, in order
    interrupted: bool = False
    seed: int | None = None  # the --seed asked for: the first run's

    @property
    def seeds(self) -> list[int]:
        """The seeds of the runs graded, in order."""
        return [report.seed for report in self.reports]

    @property
    def all_passed(self) -> bool:
        return not self.interrupted and all(t.passed == t.runs == self.runs for t in self.tallies) and bool(self.tallies)

    def to_json(self) -> dict:
        return {"schema": "grade-stress/1", "runs": self.runs, "interrupted": self.interrupted,
                "seeds": self.seeds,
                "checks": [tally.to_json() for tally in self.tallies]}


def stress(options: Options, runs: int, observer: Observer | None = None) -> StressReport:
    """Grade ``options``'s selection ``runs`` times, each with a new seed: ``options.seed``,
    when given, is the first run's, and seeds the others (the same command gives the same
    runs). The tallies are what students may see unless ``options.teacher``; the reports
    are complete."""
    seeds = _seeds(options.seed, runs)
    tallies: dict[tuple[str, str, str | None], Tally] = {}
    reports = []
    for seed in seeds:
        report = run(dataclasses.replace(options, seed=seed), observer)
        if report.interrupted:
            return StressReport(len(reports), list(tallies.values()), reports, interrupted=True, seed=options.seed)
        reports.append(report)
        for exercise in (report if options.teacher else report.for_students()).exercises:
            verdicts = [((exercise.id, check.name, check.start_method), check.hidden, check.status)
                        for check in exercise.checks]
            if exercise.problem:  # not graded at all: counted as one verdict of the exercise
                verdicts.insert(0, ((exercise.id, EXERCISE, None), False, exercise.status))
            if exercise.withheld is not None:  # a student's view: the hidden checks as one
                verdicts.append(((exercise.id, HIDDEN, None), True, exercise.withheld.status))
            for key, hidden, status in verdicts:
                tally = tallies.setdefault(key, Tally(*key, hidden=hidden))
                tally.verdicts[status] += 1
                if status is not Status.PASSED:
                    tally.failing_seeds.append(seed)
    return StressReport(runs, list(tallies.values()), reports, seed=options.seed)


def _seeds(first: int | None, runs: int) -> list[int]:
    """``runs`` distinct seeds: ``first`` and seeds drawn from it, or all drawn at random."""
    if first is None:
        return random.sample(range(2**32), runs)
    others = [seed for seed in random.Random(first).sample(range(2**32), runs) if seed != first]
    return [first, *others][:runs]


def render(result: StressReport, language: str) -> list[Line]:
    """One line per check and start method: how many runs passed, and the seeds of failures."""
    lines = [Line(text("stress.title", language, runs=result.runs), "bold")]
    if result.reports:
        shown = ", ".join(str(seed) for seed in result.seeds[:MAX_SEEDS_SHOWN])
        shown += "…" if len(result.seeds) > MAX_SEEDS_SHOWN else ""
        said = "stress.seeds_from_option" if result.seed is not None else "stress.seeds_run"
        lines.append(Line(text(said, language, seeds=shown), "dim"))
    width = max((columns(_name(tally, language)) for tally in result.tallies), default=0)
    exercise = None
    for tally in result.tallies:
        if tally.exercise_id != exercise:
            exercise = tally.exercise_id
            lines.append(Line(f"{exercise}:", "bold"))
        status = Status.PASSED if tally.passed == tally.runs else (Status.FAILED if tally.passed == 0 else
                                                                  Status.TIMEOUT)
        said = text("stress.passed", language, passed=tally.passed, runs=tally.runs)
        if tally.flaky:
            said += "  " + text("stress.sometimes", language)
        if tally.failing_seeds:
            shown = ", ".join(str(seed) for seed in tally.failing_seeds[:MAX_SEEDS_SHOWN])
            more = "…" if len(tally.failing_seeds) > MAX_SEEDS_SHOWN else ""
            said += "  " + text("stress.seeds", language, seeds=shown + more)
        lines.append(Line(f"  {fit(_name(tally, language), width)}  {said}", STYLES[status]))
    if result.interrupted:
        lines.append(Line(text("grader.interrupted", language), "magenta"))
    elif any(tally.flaky for tally in result.tallies):
        lines.append(Line(text("stress.explain", language), "yellow"))
    return lines


def _name(tally: Tally, language: str) -> str:
    if tally.name == HIDDEN:
        return text("stress.hidden_checks", language)
    tag = "  " + text("report.hidden_tag", language) if tally.hidden else ""
    return tally.name + (f" [{tally.start_method}]" if tally.start_method else "") + tag
