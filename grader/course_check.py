"""``grade check``: prove a course sound before students see it.

What it checks, each problem naming the exercise, the file and the fix:

1. the manifest loads (:func:`~grader.manifest.load_course` enforces its own rules: ids in
   order, unique slugs and modules, the check files present...); if it does not, that
   is the one problem, nothing else is checked, and the summary says the course could
   not be checked;
2. every exercise's starter is in ``exercises/``, and neither ``exercises/`` nor
   ``solutions/`` holds a ``.py`` file that no exercise names;
3. every hint has a text in each language, and both catalogues (``grader/i18n``) have the
   same keys, each with a text and the same ``{placeholders}``;
4. every reference solution passes and every starter fails, N runs of N, under every
   start method of its exercise; the starters as committed at ``--ref`` (default
   ``$GRADE_STARTERS_REF``, else ``HEAD``: :func:`grader.starters.teacher_commit`, the
   commit ``grade export`` ships by default), the working tree outside git;
5. every golden example, ``tests/examples/<module>/<case>/<module>.py``, gets the verdict
   its first line declares (``# expect: failed — why``), N of N;
6. no check changes its verdict between the runs of one submission (FLAKY: its pass rate
   and the seeds of the runs, which ``grade N --seed S`` grades again).

How it grades: the submissions are dealt into *rounds*, at most one per exercise, and a
round is graded by one :func:`~grader.runner.run` (one pytest session grading every
exercise of the round, their sandboxes scheduled as ``grade`` schedules them), each run
with a seed of its own. All runs happen in this process: no interpreter or pytest start
per submission. ``-j N`` grades N rounds at once, in N processes; the sessions of an
exercise that measures time (a ``timed`` plan) are graded afterwards, here, with nothing
else running, so parallelism never changes what they measure.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import dataclasses
import json
import multiprocessing
import random
import re
import signal
import string
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from grader import i18n
from grader.cli import add_course_option, course_root
from grader.manifest import Course, Exercise, ManifestError, load_course
from grader.report import Line
from grader.results import CheckResult, ExerciseResult, Status
from grader.runner import Observer, Options, UsageError, run, select
from grader.sandbox.isolation import isolation
from grader.scheduler import Scheduler
from grader.starters import WORKING_TREE, StarterError, copy_starters, teacher_commit, teacher_ref
from grader.stress import Tally
from grader.terminal import LiveLine, Terminal

EXIT_SOUND, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
SCHEMA = "grade-check/1"
EXAMPLES = Path("tests") / "examples"
MAX_RUNS = 1000
MAX_SEEDS_SHOWN = 5
PR_SET_DUMPABLE = 4
STARTER_VERDICTS = frozenset({Status.FAILED, Status.TIMEOUT})  # a starter runs, then fails its checks
EXPECT_LINE = re.compile(r"# expect: (\w+)")


# --- golden examples ---------------------------------------------------------------------

def submission_of(case: Path) -> Path:
    """The submission of the golden example ``case`` (``tests/examples/<module>/<case>/``):
    the file named after the module."""
    return case / f"{case.parent.name}.py"


def declared_verdict(case: Path) -> tuple[str | None, str]:
    """The verdict the submission's first line (``# expect: failed — why``) declares, and the line."""
    first = submission_of(case).read_text(encoding="utf-8").splitlines()[:1]
    match = EXPECT_LINE.match(first[0]) if first else None
    return (match.group(1) if match else None), (first[0] if first else "")


def golden_cases(course: Course, exercise: Exercise) -> list[Path]:
    """The golden examples of ``exercise``, by name (none when the course has no ``tests/examples``)."""
    folder = course.root / EXAMPLES / exercise.module
    return sorted(path.parent for path in folder.glob(f"*/{exercise.module}.py"))


# --- what is checked, and what is found --------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """Something wrong with the course: where (exercise, file), what, and what to do."""

    exercise: str | None  # an exercise id; None for the course as a whole
    file: str  # relative to the course folder when inside it
    message: str
    fix: str
    kind: str  # manifest, file, stray, hint, catalogue, golden, verdict, flaky
    seeds: tuple[int, ...] = ()  # the runs that showed it

    def to_json(self) -> dict:
        return {"exercise": self.exercise, "file": self.file, "kind": self.kind, "message": self.message,
                "fix": self.fix, "seeds": list(self.seeds)}


@dataclass(frozen=True)
class Unit:
    """One submission to grade N times, and the verdicts it must get."""

    exercise: Exercise
    kind: str  # solution, starter, golden
    file: str  # what the teacher knows it as, relative to the course folder
    path: Path  # what is graded (a starter as shipped may be a copy read from git)
    expected: frozenset[Status]
    command: str  # the `grade ...` command that grades it (add --seed S for one run)

    @property
    def label(self) -> str:
        return f"golden {Path(self.file).parent.name}" if self.kind == "golden" else self.kind

    @property
    def expected_text(self) -> str:
        return " or ".join(sorted(status.value for status in self.expected))


@dataclass(frozen=True)
class Graded:
    """One run of one unit: the seed, the verdict, and each check's."""

    exercise: str
    seed: int
    status: Status
    duration_s: float
    checks: tuple[tuple[str, str | None, Status], ...]  # (check, start method, verdict)
    why: str  # the first failure's first line ('' when it passed)

    @classmethod
    def of(cls, result: ExerciseResult, seed: int) -> Graded:
        failed = next((check for check in result.checks if check.status is not Status.PASSED), None)
        why = result.problem or (f"{_check_name(failed.name, failed.start_method)}: {failed.message}"
                                 if failed is not None else "")
        return cls(result.id, seed, result.status, result.duration_s,
                   tuple((check.name, check.start_method, check.status) for check in result.checks),
                   why.strip().split("\n")[0])


@dataclass
class Checked:
    """A unit's runs so far, and the problems they show."""

    unit: Unit
    runs: list[Graded] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def as_expected(self) -> int:
        return sum(graded.status in self.unit.expected for graded in self.runs)

    @property
    def deviating(self) -> list[Graded]:
        return [graded for graded in self.runs if graded.status not in self.unit.expected]

    @property
    def duration_s(self) -> float:
        return sum(graded.duration_s for graded in self.runs)

    def tallies(self) -> list[Tally]:
        """Each check's verdicts over the runs, per start method."""
        tallies: dict[tuple[str, str | None], Tally] = {}
        for graded in self.runs:
            for name, method, status in graded.checks:
                tally = tallies.setdefault((name, method), Tally(self.unit.exercise.id, name, method))
                tally.verdicts[status] += 1
                if status is not Status.PASSED:
                    tally.failing_seeds.append(graded.seed)
        return list(tallies.values())

    def flaky(self) -> list[Tally]:
        """The checks whose verdict differed between runs."""
        return [tally for tally in self.tallies() if tally.flaky]

    def verdicts(self) -> collections.Counter:
        return collections.Counter(graded.status for graded in self.runs)


# --- static checks -----------------------------------------------------------------------

def starter_problems(course: Course, exercises: list[Exercise]) -> list[Problem]:
    """A starter missing from ``exercises/`` (the manifest loader has checked the rest)."""
    return [Problem(exercise.id, exercise.file, "the starter is missing",
                    "write it: it must run, and fail its checks for the reason the exercise teaches", "file")
            for exercise in exercises if not course.path_of(exercise).is_file()]


def stray_problems(course: Course) -> list[Problem]:
    """``.py`` files of ``exercises/`` and ``solutions/`` that no exercise names."""
    named = {f"{exercise.module}.py" for exercise in course.exercises}
    problems = []
    for folder in (course.exercises_dir, course.solutions_dir):
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else ():
            if path.name not in named and not path.name.startswith("."):
                problems.append(Problem(None, _shown(path, course.root), "no exercise of exercises.yaml names it",
                                        "remove it, or add its exercise to exercises.yaml", "stray"))
    return problems


def hint_problems(exercises: list[Exercise]) -> list[Problem]:
    """Hints without a text in some language."""
    return [Problem(exercise.id, "exercises.yaml", f"hint #{number} of {exercise.id} has no {language} text",
                    f"write its {language} text (every hint is shown in every language)", "hint")
            for exercise in exercises for number, hint in enumerate(exercise.hints, 1)
            for language in i18n.LANGUAGES if not hint.get(language).strip()]


def catalogue_problems(root: Path) -> list[Problem]:
    """Keys of the English catalogue missing (or empty) in another, or the other way
    round, and texts whose ``{placeholders}`` differ from the English ones."""
    folder = Path(i18n.__file__).parent
    english = i18n.catalogue("en")
    problems = []
    for language in i18n.LANGUAGES[1:]:
        other, file = i18n.catalogue(language), _shown(folder / f"{language}.yaml", root)
        english_file = _shown(folder / "en.yaml", root)
        for key, template in english.items():
            translated = other.get(key)
            if not isinstance(translated, str) or not translated.strip():
                problems.append(Problem(None, file, f"the message {key!r} has no {language} text",
                                        f"add {key}: to {file}, with the placeholders of {english_file}",
                                        "catalogue"))
            elif _placeholders(translated) != _placeholders(template):
                problems.append(Problem(
                    None, file, f"the message {key!r} has the placeholders {_listed(_placeholders(translated))}, "
                    f"{english_file} has {_listed(_placeholders(template))}",
                    "use the same {placeholders} in both catalogues", "catalogue"))
        for key in other.keys() - english.keys():
            problems.append(Problem(None, english_file, f"the message {key!r} is in {file} only",
                                    f"add it to {english_file}, or remove it from {file}", "catalogue"))
    return problems


def _placeholders(template: str) -> set[str] | None:
    """The names ``template`` fills in; None when it is not a valid format string."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        return None


def _listed(names: set[str] | None) -> str:
    if names is None:
        return "(not a valid format string)"
    return ", ".join(f"{{{name}}}" for name in sorted(names)) or "none"


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the course folder when inside it."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


# --- the submissions to grade ------------------------------------------------------------

def build_units(course: Course, exercises: list[Exercise], starters: Path,
                commit: str | None) -> tuple[list[Unit], list[Problem]]:
    """Every submission to grade: each exercise's solution, starter (as committed at
    ``commit``, copied to ``starters``; None: the working tree) and golden examples; and
    the problems of golden examples that declare no verdict. A starter missing from the
    course is left out (its problem is said)."""
    shipped = copy_starters(course.root, starters, commit)
    units, problems = [], []
    for exercise in exercises:
        units.append(Unit(exercise, "solution", f"solutions/{exercise.module}.py",
                          course.solutions_dir / f"{exercise.module}.py", frozenset({Status.PASSED}),
                          f"grade {exercise.id} --solution"))
        starter = starters / f"{exercise.module}.py"
        if course.path_of(exercise).is_file() and starter.is_file():
            units.append(Unit(exercise, "starter", exercise.file, starter, STARTER_VERDICTS,
                              _starter_command(course, exercise, starter, shipped[starter.name])))
        for case in golden_cases(course, exercise):
            file = _shown(submission_of(case), course.root)
            verdict, line = declared_verdict(case)
            if verdict is None or verdict not in {status.value for status in Status}:
                problems.append(Problem(
                    exercise.id, file, f"its first line declares no verdict ({line[:60]!r})",
                    "start it with '# expect: passed|failed|timeout|error — why'", "golden"))
                continue
            units.append(Unit(exercise, "golden", file, submission_of(case), frozenset({Status(verdict)}),
                              f"grade {exercise.id} --submission {file}"))
    return units, problems


def _starter_command(course: Course, exercise: Exercise, starter: Path, source: str) -> str:
    """``grade ...`` grading the starter as shipped: the file itself when the working tree
    holds it as shipped, else a copy read from its commit."""
    if source == WORKING_TREE or course.path_of(exercise).read_bytes() == starter.read_bytes():
        return f"grade {exercise.id} --submission {exercise.file}"
    copy = f"/tmp/{exercise.module}.py"
    return f"git show {source[:12]}:{exercise.file} > {copy} && grade {exercise.id} --submission {copy}"


def rounds(units: list[Unit]) -> list[tuple[Unit, ...]]:
    """The units dealt into rounds: the n-th round holds the n-th unit of each exercise
    (one ``grade`` run grades one submission per exercise)."""
    by_exercise: dict[str, list[Unit]] = {}
    for unit in units:
        by_exercise.setdefault(unit.exercise.id, []).append(unit)
    depth = max((len(listed) for listed in by_exercise.values()), default=0)
    return [tuple(listed[n] for listed in by_exercise.values() if n < len(listed)) for n in range(depth)]


def measures_time(course: Course, exercise: Exercise) -> bool:
    """Whether the exercise's plan is ``timed`` (its sessions must run alone)."""
    try:
        return Scheduler(course, {}, (), 0).plan(exercise).timed
    except Exception:  # a plan that does not load is the grading's to report
        return False


# --- grading -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One run of one round: its folder of submissions (by module name) and its seed."""

    round: tuple[Unit, ...]
    folder: Path
    run: int  # 1..N
    seed: int


def grade_round(root: Path, folder: Path, modules: tuple[str, ...], seed: int, language: str,
                observer: Observer | None = None) -> tuple[list[Graded], bool]:
    """Grade the submissions in ``folder`` (one per module, named after it) with ``seed``:
    each exercise's :class:`Graded`, and whether the run was interrupted."""
    report = run(Options(course_root=root, selection=modules, submission=folder, seed=seed, language=language),
                 observer)
    return [Graded.of(result, seed) for result in report.exercises], report.interrupted


class _RoundProgress:
    """Shows on the live line the check being graded, named after its unit; counting is
    done per unit graded, not per check."""

    def __init__(self, live: LiveLine, job: Job) -> None:
        self.live = live
        self.labels = {unit.exercise.id: unit.label for unit in job.round}
        self.run = job.run

    def collected(self, checks: int) -> None:
        pass

    def check_started(self, exercise_id: str, check: str, start_method: str | None) -> None:
        self.live.check_started(exercise_id, f"{self.labels.get(exercise_id, '')} · run {self.run} · {check}",
                                start_method)

    def check_finished(self, exercise_id: str, result: CheckResult) -> None:
        pass


class Grading:
    """Grades every unit ``runs`` times, ``jobs`` rounds at a time. With ``jobs`` above 1,
    the exercises whose plan is timed are graded after the others, in this process alone."""

    def __init__(self, course: Course, exercises: list[Exercise], units: list[Unit], runs: int, jobs: int,
                 language: str, folder: Path, live: LiveLine | None) -> None:
        self.course = course
        self.runs = runs
        self.jobs = jobs
        self.language = language
        self.live = live
        self.checked = {unit: Checked(unit) for unit in units}
        self.interrupted = False
        timed = {exercise.id for exercise in exercises if jobs > 1 and measures_time(course, exercise)}
        self.beside = self._jobs(rounds([unit for unit in units if unit.exercise.id not in timed]),
                                 folder / "beside")
        self.alone = self._jobs(rounds([unit for unit in units if unit.exercise.id in timed]), folder / "alone")
        if live is not None:
            live.collected(len(units) * runs)

    def _jobs(self, dealt: list[tuple[Unit, ...]], folder: Path) -> list[Job]:
        """Every run of every round, run by run (each round's folder made once)."""
        folders = []
        for number, round_ in enumerate(dealt, 1):
            folders.append(folder / f"round-{number}")
            folders[-1].mkdir(parents=True)
            for unit in round_:
                (folders[-1] / f"{unit.exercise.module}.py").symlink_to(unit.path.resolve())
        return [Job(round_, path, run_number, random.randrange(2**32))
                for run_number in range(1, self.runs + 1) for round_, path in zip(dealt, folders)]

    def grade(self) -> list[Checked]:
        if self.jobs > 1 and self.beside:
            self._in_processes(self.beside)
        else:
            self._here(self.beside)
        self._here(self.alone)
        return list(self.checked.values())

    def _here(self, jobs: list[Job]) -> None:
        """Grade ``jobs`` one after the other in this process, the live line following the checks."""
        try:
            for job in jobs:
                if self.interrupted:
                    return
                observer = _RoundProgress(self.live, job) if self.live is not None else None
                self._record(job, *grade_round(self.course.root, job.folder, _modules(job), job.seed,
                                               self.language, observer))
        except KeyboardInterrupt:  # between two runs (during one, the runner stops it and says so)
            self.interrupted = True

    def _in_processes(self, jobs: list[Job]) -> None:
        """Grade ``jobs`` in ``self.jobs`` processes (spawned: a clean interpreter each)."""
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.jobs, mp_context=context, initializer=_worker_setup) as pool:
            running: dict[Future, Job] = {}
            try:
                for job in jobs:
                    running[pool.submit(_grade_in_worker, self.course.root, job.folder, _modules(job), job.seed,
                                        self.language)] = job
                pending = set(running)
                while pending and not self.interrupted:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        self._record(running[future], *future.result())
                    upcoming = next((job for future, job in running.items() if future in pending), None)
                    if self.live is not None and upcoming is not None:  # about where the processes are
                        self.live.check_started(upcoming.round[0].exercise.id,
                                                f"a round of {len(upcoming.round)} · run {upcoming.run}", None)
            except KeyboardInterrupt:
                self.interrupted = True
            if self.interrupted:  # what has not started never will; the rounds running stop on their own
                previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C changes nothing
                try:
                    pool.shutdown(cancel_futures=True)
                finally:
                    signal.signal(signal.SIGINT, previous)

    def _record(self, job: Job, results: list[Graded], interrupted: bool) -> None:
        if interrupted:
            self.interrupted = True
            return
        units = {unit.exercise.id: unit for unit in job.round}
        for graded in results:
            unit = units[graded.exercise]
            self.checked[unit].runs.append(graded)
            if self.live is not None:
                self.live.check_finished(unit.exercise.id, CheckResult(unit.label, None, graded.status))


def _modules(job: Job) -> tuple[str, ...]:
    return tuple(unit.exercise.module for unit in job.round)


def _worker_setup() -> None:
    """A grading process of ``-j``: not dumpable, as ``grade`` (grader.cli: no submission
    can read its memory), and deaf to Ctrl-C while it waits for a round."""
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _grade_in_worker(root: Path, folder: Path, modules: tuple[str, ...], seed: int,
                     language: str) -> tuple[list[Graded], bool]:
    """:func:`grade_round` in a grading process of ``-j``: Ctrl-C (sent to every process
    of the terminal's group) stops the round as it stops ``grade``."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return grade_round(root, folder, modules, seed, language)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


# --- problems of the runs ----------------------------------------------------------------

FIXES = {
    "solution": "the reference solution must pass every check under every start method: fix {file}, or the "
                "check that fails it ({checks})",
    "starter": "a starter must run, then fail its checks for the reason the exercise teaches: put that mistake "
               "back in {file} (or make it run), or add the check that catches it to {checks}",
    "golden": "the grader no longer gives the declared verdict: fix the check ({checks}) if the example is right, "
              "else its '# expect:' line (and python tests/update_goldens.py {case})",
}
FLAKY_FIX = ("a check must give the same verdict on every run: force the timing it depends on (Align, Order) "
             "or draw the input it depends on every run; see a run that differed: {command} --seed {seed}; "
             "measure: {command} --stress 20")


def run_problems(checked: Checked, root: Path) -> list[Problem]:
    """What the runs of one unit show: checks that changed their verdict between runs
    (FLAKY), else runs without the expected verdict."""
    unit, runs = checked.unit, len(checked.runs)
    checks = _shown(unit.exercise.checks, root)
    verdicts = checked.verdicts()
    flaky = checked.flaky()
    if flaky or len(verdicts) > 1:
        rates = [f"{_check_name(tally.name, tally.start_method)} {_rates(tally.verdicts, runs)}"
                 + _seeds(" (not passed with seeds {})", tally.failing_seeds) for tally in flaky]
        usual = verdicts.most_common(1)[0][0]
        odd = next((graded for graded in checked.runs if graded.status is not usual), checked.runs[0])
        seeds = tuple(sorted({seed for tally in flaky for seed in tally.failing_seeds}
                             | {graded.seed for graded in checked.deviating})) or (odd.seed,)
        return [Problem(unit.exercise.id, checks,
                        f"FLAKY on {unit.file} ({unit.label}: {_rates(verdicts, runs)}; expected "
                        f"{unit.expected_text}): " + ("; ".join(rates) or odd.why),
                        FLAKY_FIX.format(command=unit.command, seed=seeds[0]), "flaky", seeds)]
    deviating = checked.deviating
    if not deviating:
        return []
    seeds = tuple(graded.seed for graded in deviating)
    got = deviating[0]
    message = (f"the {unit.label} got {got.status.value} in {len(deviating)}/{runs} runs, expected "
               f"{unit.expected_text}" + _seeds(" (seeds {})", list(seeds)) + (f": {got.why}" if got.why else ""))
    fix = FIXES[unit.kind].format(file=unit.file, checks=checks, case="/".join(Path(unit.file).parts[-3:-1]))
    return [Problem(unit.exercise.id, unit.file, message, f"{fix}; see it: {unit.command} --seed {seeds[0]}",
                    "verdict", seeds)]


def _rates(verdicts: collections.Counter, runs: int) -> str:
    """``passed 4/5, failed 1/5``: how many runs gave each verdict, the most frequent first."""
    return ", ".join(f"{status.value} {count}/{runs}" for status, count in verdicts.most_common())


def _seeds(template: str, seeds: list[int]) -> str:
    if not seeds:
        return ""
    shown = ", ".join(str(seed) for seed in seeds[:MAX_SEEDS_SHOWN])
    return template.format(shown + ("…" if len(seeds) > MAX_SEEDS_SHOWN else ""))


def _check_name(name: str, start_method: str | None) -> str:
    return name + (f" [{start_method}]" if start_method else "")


# --- the report --------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """A line of the summary table: the runs that got the expected verdict out of all
    runs, and the exercises' own grading time, where something was graded."""

    exercise: str
    checked: str
    result: str
    as_expected: int | None = None
    runs: int | None = None
    duration_s: float | None = None

    def cells(self) -> tuple[str, str, str, str, str]:
        return (self.exercise, self.checked, self.result,
                "" if self.runs is None else f"{self.as_expected}/{self.runs}",
                "" if self.duration_s is None else f"{self.duration_s:.1f} s")


@dataclass
class CheckReport:
    """Everything ``grade check`` found."""

    course: Course | None
    exercises: list[Exercise]
    runs: int
    jobs: int
    problems: list[Problem]
    checked: list[Checked] = field(default_factory=list)
    duration_s: float = 0.0
    interrupted: bool = False
    ref: str = "HEAD"  # the starters' ref (--ref, $GRADE_STARTERS_REF or HEAD)
    commit: str | None = None  # the commit it named; None: the working tree (no git, nothing committed)
    broken: str = ""  # where the manifest is broken ("exercises.yaml, line 3"): nothing else was checked

    @property
    def sound(self) -> bool:
        return not self.problems and not self.interrupted

    def rows(self) -> Iterator[Row]:
        """The summary table: the course, then per exercise its files and hints, its
        solution, its starter and its golden examples."""
        if self.broken:
            yield Row("course", "manifest", "broken: nothing else checked")
            return
        yield Row("course", "manifest, catalogues, stray files",
                  _result(sum(problem.exercise is None for problem in self.problems)))
        for exercise in self.exercises:
            static = [p for p in self.problems if p.exercise == exercise.id and p.kind in ("file", "hint", "golden")]
            yield Row(exercise.id, "files, hints", _result(len(static)))
            units = [checked for checked in self.checked if checked.unit.exercise is exercise]
            for kind in ("solution", "starter", "golden"):
                group = [checked for checked in units if checked.unit.kind == kind]
                if group:
                    what = kind if kind != "golden" else _count(len(group), "golden example")
                    yield Row(exercise.id, what, self._unit_result(group), sum(c.as_expected for c in group),
                              sum(len(c.runs) for c in group), round(sum(c.duration_s for c in group), 3))

    def _unit_result(self, group: list[Checked]) -> str:
        kinds = {problem.kind for checked in group for problem in checked.problems}
        if "flaky" in kinds:
            return "FLAKY"
        if "verdict" in kinds:
            return "wrong verdict"
        return "not run" if any(len(c.runs) < self.runs for c in group) else "ok"

    def time_by_kind(self) -> dict[str, float]:
        """The exercises' own grading time (sessions and checks), summed per kind of submission."""
        spent: dict[str, float] = collections.Counter()
        for checked in self.checked:
            spent[checked.unit.kind] += checked.duration_s
        return dict(spent)

    def lines(self) -> list[Line]:
        rows = [("exercise", "checked", "result", "runs", "time"), *(row.cells() for row in self.rows())]
        widths = [max(len(row[column]) for row in rows) for column in range(5)]
        lines = []
        for number, row in enumerate(rows):
            text = "  ".join(cell.rjust(width) if column >= 3 else cell.ljust(width)
                             for column, (cell, width) in enumerate(zip(row, widths))).rstrip()
            style = "bold" if number == 0 else {"ok": "green", "FLAKY": "yellow"}.get(row[2], "" if not row[2] else "red")
            lines.append(Line(text, style))
        if self.problems:
            lines += [Line(""), Line(f"Problems ({len(self.problems)}):", "bold red")]
            for problem in self.problems:
                lines.append(Line(f"✗ {problem.exercise or 'course'} · {problem.file}: {problem.message}",
                                  "yellow" if problem.kind == "flaky" else "red"))
                lines.append(Line(f"    fix: {problem.fix}"))
        lines.append(Line(""))
        spent = ", ".join(f"{kind}s {seconds:.0f} s" for kind, seconds in self.time_by_kind().items())
        graded = sum(len(checked.runs) for checked in self.checked)
        if self.broken:
            lines.append(Line(f"The course could not be checked: its manifest is broken ({self.broken}); nothing "
                              "else was checked. Correct it, then run grade check again.", "bold red"))
            return lines
        summary = "The course is sound" if self.sound else \
            "Interrupted: what was not graded is not checked" if self.interrupted else \
            _count(len(self.problems), "problem")
        lines.append(Line(f"{summary}. {_count(len(self.exercises), 'exercise')}, "
                          f"{_count(len(self.checked), 'submission')}, {_count(graded, 'grading')} "
                          f"({self.runs} per submission) in {self.duration_s:.1f} s with "
                          f"{_count(self.jobs, 'process', 'processes')}"
                          + (f"; grading time by kind: {spent}" if spent else "") + f"; {self.starters()}.",
                          "bold green" if self.sound else "bold magenta" if self.interrupted else "bold red"))
        return lines

    def starters(self) -> str:
        """Where the starters graded came from: the commit (short hash) and its ref."""
        if self.commit is None:
            return "starters from the working tree (no commit to read them from)"
        return f"starters as committed at {self.commit[:12]} ({self.ref})"

    def to_json(self) -> dict:
        return {
            "schema": SCHEMA, "status": "passed" if self.sound else "failed", "interrupted": self.interrupted,
            "runs": self.runs, "jobs": self.jobs, "duration_s": round(self.duration_s, 3),
            "exercises": [exercise.id for exercise in self.exercises],
            "starters": {"ref": self.ref, "commit": self.commit},
            "summary": [dataclasses.asdict(row) for row in self.rows()],
            "submissions": [{
                "exercise": checked.unit.exercise.id, "kind": checked.unit.kind, "file": checked.unit.file,
                "expected": sorted(status.value for status in checked.unit.expected), "runs": len(checked.runs),
                "verdicts": {status.value: count for status, count in checked.verdicts().items()},
                "seeds": [graded.seed for graded in checked.runs], "duration_s": round(checked.duration_s, 3),
                "flaky_checks": [tally.to_json() for tally in checked.flaky()],
            } for checked in self.checked],
            "problems": [problem.to_json() for problem in self.problems],
        }


def _result(problems: int) -> str:
    return _count(problems, "problem") if problems else "ok"


def _count(number: int, noun: str, plural: str = "") -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


# --- the command -------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade check", description="Prove the course sound: the manifest, files, hints and catalogues; "
        "every solution passes and every starter fails N runs of N; every golden example gets its declared "
        "verdict N of N; no check is flaky.",
        epilog="Exit status: 0 when the course is sound, 1 when a problem was found, 2 for a usage error "
               "(or a student copy, without solutions/), 130 when interrupted.")
    parser.add_argument("exercises", nargs="*", metavar="EXERCISE",
                        help="only these exercises: id (exercise-3), number (3) or slug (queue); default: all")
    parser.add_argument("--runs", type=int, default=5, metavar="N",
                        help="grade each submission N times, each with new inputs (default: 5)")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="grade N submissions at once, in N processes (exercises that measure time are "
                             "still graded alone)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="a table and the problems (default), or one JSON document (grade-check/1)")
    parser.add_argument("--lang", choices=i18n.LANGUAGES,
                        help="language of the grader's feedback quoted in problems (default: GRADE_LANG, then LANG)")
    parser.add_argument("--ref", metavar="REF",
                        help="grade the starters as committed at REF, as grade export ships them (default: "
                             "$GRADE_STARTERS_REF if set, else HEAD; the working tree outside git)")
    add_course_option(parser)
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= MAX_RUNS:
        parser.error(f"--runs takes a number of runs from 1 to {MAX_RUNS}")
    if args.jobs < 1:
        parser.error("-j/--jobs must be at least 1")
    root = course_root(parser, args)
    if not (root / "solutions").is_dir():
        print(f"grade check: error: {root} has no solutions/: it is a student copy (grade export makes them); "
              "run grade check in the course itself", file=sys.stderr)
        return EXIT_USAGE
    language = i18n.resolve_language(args.lang)
    terminal = Terminal(sys.stdout, plain=args.format == "json")
    if notice := isolation().notice(language):
        print(notice, file=sys.stderr)
    try:
        report = check(root, tuple(args.exercises), args.runs, args.jobs, language, terminal, args.ref)
    except (UsageError, StarterError) as error:
        print(f"grade check: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        terminal.lines(report.lines())
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_SOUND if report.sound else EXIT_PROBLEMS


def check(root: Path, selection: tuple[str, ...], runs: int, jobs: int, language: str,
          terminal: Terminal, ref: str | None = None) -> CheckReport:
    """Check the course at ``root`` (only the exercises of ``selection``, when given), its
    starters as committed at ``ref`` (None: :func:`~grader.starters.teacher_ref`)."""
    started = time.monotonic()
    try:
        course = load_course(root)
    except ManifestError as error:
        file = _shown(Path(error.path), root) if getattr(error, "path", None) else "exercises.yaml"
        line = getattr(error, "line", None)
        return CheckReport(None, [], runs, jobs, [Problem(
            None, file, str(error), f"correct {file} where the message says", "manifest")],
            ref=ref or teacher_ref(), broken=file + (f", line {line}" if line else ""))
    commit = teacher_commit(root, ref)
    exercises = select(course, selection, None)
    problems = (stray_problems(course) + catalogue_problems(course.root) + starter_problems(course, exercises)
                + hint_problems(exercises))
    with tempfile.TemporaryDirectory(prefix="grade-check-") as folder:
        units, golden_problems = build_units(course, exercises, Path(folder) / "starters", commit)
        problems += golden_problems
        with terminal.live(language) as live:
            grading = Grading(course, exercises, units, runs, jobs, language, Path(folder), live)
            checked = grading.grade()
    for result in checked:
        result.problems = run_problems(result, course.root)
        problems += result.problems
    order = {exercise.id: number for number, exercise in enumerate(course.exercises)}
    problems.sort(key=lambda problem: order.get(problem.exercise, -1))
    return CheckReport(course, exercises, runs, jobs, problems, checked, time.monotonic() - started,
                       grading.interrupted, ref or teacher_ref(), commit)
