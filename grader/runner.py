"""Grade a selection of exercises: the one entry point behind the command line.

:func:`run` resolves what to grade, rejects what cannot be graded before any code runs
(a missing file, a syntax error), runs the check files with pytest in this process (the
checks only *read* data coming back from sandboxes; no submission code runs here) and
turns the pytest reports into a :class:`~grader.results.Report`.

When grading in this process (no ``-j``), the first exercise's sandboxes are started
before pytest is even imported: the half second pytest needs to start overlaps with
the submission's run.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import random
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Protocol

from grader.declared import CheckTable, declare
from grader.i18n import resolve_language, text
from grader.manifest import Course, Exercise, load_course
from grader.results import CheckResult, ExerciseResult, Report, Status
from grader.sandbox.isolation import isolation
from grader.scheduler import Scheduler

if TYPE_CHECKING:
    import pytest

PYTEST_INI = Path(__file__).parent / "grading.ini"  # not the course's: its pyproject.toml configures its own tests
MAX_SUBMISSION_BYTES = 1024**2


class Observer(Protocol):
    """Told how a run goes while it goes (the live line of a terminal)."""

    def collected(self, checks: int) -> None: ...

    def check_started(self, exercise_id: str, check: str, start_method: str | None) -> None: ...

    def check_finished(self, exercise_id: str, result: CheckResult) -> None: ...


class UsageError(Exception):
    """Bad arguments: the command line exits with status 2 and this message."""


@dataclass(frozen=True)
class Options:
    course_root: Path
    selection: tuple[str, ...] = ()
    submission: Path | None = None
    solution: bool = False
    start_methods: tuple[str, ...] = ()
    jobs: int = 1
    seed: int | None = None
    language: str | None = None
    teacher: bool = False  # the observer may name hidden checks (grade --teacher)


def run(options: Options, observer: Observer | None = None) -> Report:
    """Grade the selection: the complete results, hidden checks included (a renderer
    shows students :meth:`Report.for_students`), and the run's wall time."""
    started = time.monotonic()
    refusal = isolation().refusal()
    if refusal:
        raise UsageError(refusal)
    course = load_course(options.course_root)
    language = resolve_language(options.language)
    exercises = select(course, options.selection, options.submission)
    _check_start_methods(exercises, options.start_methods)
    tables = {ex.id: declare(ex) for ex in exercises}
    results = {ex.id: ExerciseResult(ex.id, ex.slug, ex.title.get(language), tables[ex.id].max_score(ex),
                                     partial_credit=tables[ex.id].partial_credit) for ex in exercises}
    submissions = {}
    for exercise in exercises:
        path = submission_path(course, exercise, options)
        results[exercise.id].file = _shown_path(path, course.root)
        problem = tables[exercise.id].problem
        if not problem:
            problem, results[exercise.id].line = _unreadable(path, exercise, language)
        if problem:
            results[exercise.id].problem = problem
        else:
            submissions[exercise] = path
    seed = options.seed if options.seed is not None else random.randrange(2**32)
    interrupted = bool(submissions) and _run_checks(course, submissions, options, language, results, tables,
                                                            seed, observer)
    return Report([results[ex.id] for ex in exercises], seed=seed, interrupted=interrupted,
                  duration_s=time.monotonic() - started)


def select(course: Course, names: tuple[str, ...], submission: Path | None) -> list[Exercise]:
    """The exercises named (by id, number, slug or module), in course order; all when none.

    A ``--submission`` file named after a module selects that exercise by itself.
    """
    if not names and submission is not None and submission.is_file():
        inferred = course.select(submission.stem)
        if inferred is not None:
            return [inferred]
    if not names:
        return list(course.exercises)
    chosen = []
    for name in names:
        exercise = course.select(name)
        if exercise is None:
            valid = ", ".join(f"{ex.id} ({ex.slug})" for ex in course.exercises)
            raise UsageError(f"unknown exercise {name!r}; choose from: {valid}")
        if exercise not in chosen:
            chosen.append(exercise)
    return sorted(chosen, key=lambda ex: ex.number)


def submission_path(course: Course, exercise: Exercise, options: Options) -> Path:
    if options.solution:
        return course.solutions_dir / f"{exercise.module}.py"
    if options.submission is None:
        return course.path_of(exercise)
    if options.submission.is_dir():
        return options.submission / f"{exercise.module}.py"
    return options.submission


def _shown_path(path: Path, root: Path) -> str:
    """``path`` relative to the course folder when inside it (``exercises/ex03_queue.py``), else absolute."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(resolved)


def _check_start_methods(exercises: list[Exercise], methods: tuple[str, ...]) -> None:
    for method in methods:
        if not any(method in ex.start_methods for ex in exercises):
            raise UsageError(f"unknown or unused start method {method!r}; "
                             f"the selected exercises use: {', '.join(_all_methods(exercises))}")


def _all_methods(exercises: list[Exercise]) -> list[str]:
    return sorted({m for ex in exercises for m in ex.start_methods})


def _unreadable(path: Path, exercise: Exercise, language: str) -> tuple[str, int | None]:
    """Why the submission cannot be graded at all (missing, too large, syntax error), or
    '', and the line of the file a syntax error is on (None for the others)."""
    if not path.is_file():
        return text("submission.missing", language, path=path, module=exercise.module), None
    if path.stat().st_size > MAX_SUBMISSION_BYTES:
        return text("submission.too_large", language, path=path, size=path.stat().st_size), None
    try:
        source = path.read_bytes()
        ast.parse(source, filename=str(path))
    except SyntaxError as error:
        line = (error.text or "").rstrip("\n")
        caret = " " * max((error.offset or 1) - 1, 0) + "^" if line else ""
        return text("submission.syntax_error", language, path=path, line=error.lineno or "?",
                    message=error.msg, code=f"{line}\n{caret}" if line else ""), error.lineno
    except (OSError, ValueError) as error:
        return text("submission.unreadable", language, path=path, error=error), None
    return "", None


@contextlib.contextmanager
def _environment(**values: str):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _InterruptWatch:
    """Remembers that Ctrl-C (SIGINT) came during a run, however the run then ends: the
    KeyboardInterrupt may surface as another exception (a session stopped under a check
    that waits for it), and a run stopped that way is interrupted, never graded."""

    def __init__(self) -> None:
        self.fired = False
        self.previous: object = None
        self._holding = False
        self._pending: tuple[int, object] | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Within the block, Ctrl-C is only remembered; it interrupts once the block ends.
        An import interrupted midway can leave its module lock held, and the sessions'
        threads, importing too, would wait for it forever."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._interrupt(*pending)

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)

    def uninstall(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None

    def _handle(self, signum: int, frame: object) -> None:
        if self.previous is signal.SIG_IGN:
            return
        self.fired = True
        if self._holding:
            self._pending = (signum, frame)
        else:
            self._interrupt(signum, frame)

    def _interrupt(self, signum: int, frame: object) -> None:
        if callable(self.previous):
            self.previous(signum, frame)
        raise KeyboardInterrupt


class _XdistCollection:
    """Under xdist the controller collects nothing itself: the workers tell it."""

    def __init__(self, collector: _Collector) -> None:
        self.collector = collector

    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        self.collector._expect(ids)


class _Collector:
    """Receives every test report (from this process or from xdist workers).

    Each check's points and whether it is hidden come from the exercise's
    :class:`~grader.declared.CheckTable`. The observer (the live line, which students
    see) is never told a hidden check's name or result unless ``teacher``; a hidden
    check's failure causes choose no hint (the hint would tell what it checks).
    """

    def __init__(self, course: Course, results: dict[str, ExerciseResult], tables: dict[str, CheckTable],
                 observer: Observer | None, language: str, teacher: bool = False) -> None:
        self.course = course
        self.results = results
        self.tables = tables
        self.observer = observer
        self.language = language
        self.teacher = teacher
        self.internal_errors: list[str] = []
        self.sandbox_s: dict[str, float] = {}  # per exercise: its longest sandbox session
        self.windows: dict[str, tuple[float, float]] = {}  # per exercise: from its first session's start to its last's end
        self.evaluation_s: dict[str, float] = {}  # per exercise: the time its checks took to evaluate
        self.expected: dict[str, set[str]] = {}  # per exercise: the node ids collected
        self.graded: set[str] = set()
        self.causes: dict[str, list[str]] = {}  # per exercise: its failures' causes, in the order of its checks
        self.by_path: dict[str, Exercise | None] = {}  # per check file: its exercise

    def _result_for(self, path: str) -> ExerciseResult | None:
        if path not in self.by_path:  # pytest's paths are relative to the root; resolved once per file
            self.by_path[path] = self.course.by_checks(self.course.root / path)
        exercise = self.by_path[path]
        return self.results.get(exercise.id) if exercise else None

    def _expect(self, node_ids: list[str]) -> None:
        for node_id in node_ids:
            result = self._result_for(node_id.split("::")[0])
            if result is not None:
                self.expected.setdefault(result.id, set()).add(node_id)
        if self.observer is not None:
            self.observer.collected(sum(len(ids) for ids in self.expected.values()))

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self._expect([item.nodeid for item in items])

    def pytest_runtest_logstart(self, nodeid: str, location: tuple) -> None:
        self._expect([nodeid])  # a check that started is expected, however it was collected
        result = self._result_for(nodeid.split("::")[0])
        if self.observer is not None and result is not None:
            name, _, method = nodeid.split("::")[-1].partition("[")
            self.observer.check_started(result.id, self._shown(name, self.tables[result.id].hidden(name)),
                                        method.rstrip("]") or None)

    def _shown(self, name: str, hidden: bool) -> str:
        """The name the observer may show of a check."""
        return text("live.hidden_check", self.language) if hidden and not self.teacher else name

    def _check(self, exercise_id: str, name: str, **fields: object) -> CheckResult:
        """A check's result, with its points and hidden flag as declared."""
        table = self.tables[exercise_id]
        return CheckResult(name=name, points=table.worth(name), hidden=table.hidden(name), **fields)

    def _add(self, result: ExerciseResult, check: CheckResult) -> None:
        result.checks.append(check)
        if self.observer is not None:
            shown = check if self.teacher or not check.hidden else CheckResult(
                self._shown(check.name, True), check.start_method, check.status, hidden=True)
            self.observer.check_finished(result.id, shown)

    def add_missing(self, language: str) -> None:
        """A check collected but never graded (a crashed worker, a lost report) is an
        error of its exercise, never a silent pass."""
        for exercise_id, node_ids in self.expected.items():
            for node_id in sorted(node_ids - self.graded):
                name, _, method = node_id.split("::")[-1].partition("[")
                self.results[exercise_id].checks.append(self._check(
                    exercise_id, name, start_method=method.rstrip("]") or None, status=Status.ERROR,
                    message=text("grader.check_missing", language)))

    def choose_hints(self, language: str) -> None:
        """The hint of each exercise that did not pass: the first hint tied to a cause of
        its failures (its checks in order, each failure's most telling cause first); none
        when no hint explains them (a grader fault, a timeout of no known cause)."""
        for exercise in self.course.exercises:
            result = self.results.get(exercise.id)
            if result is not None and result.status is not Status.PASSED:
                result.hint = exercise.hint_for(self.causes.get(exercise.id, []), language)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """A check's duration is its sandbox session's (shared by the checks of one start
        method) plus its own evaluation; an exercise's, the time from the start of its
        first session to the end of its last (sessions started early, while another
        exercise was graded, count from their own start) plus the evaluation of all its
        checks; without the sessions' times, its longest session."""
        result = self._result_for(report.fspath)
        if result is None:
            return
        for name, value in report.user_properties:
            if name == "grade" and report.nodeid not in self.graded:
                self.graded.add(report.nodeid)
                verdict = json.loads(value)
                if not self.tables[result.id].hidden(verdict["check"]):
                    self.causes.setdefault(result.id, []).extend(verdict.get("causes", []))
                session_s = float(verdict.get("session_s", 0.0))
                self.sandbox_s[result.id] = max(self.sandbox_s.get(result.id, 0.0), session_s)
                self.evaluation_s[result.id] = self.evaluation_s.get(result.id, 0.0) + report.duration
                window = verdict.get("session_window")
                if window:
                    start, end = self.windows.get(result.id, (window[0], window[1]))
                    self.windows[result.id] = (min(start, window[0]), max(end, window[1]))
                sessions = self.windows[result.id][1] - self.windows[result.id][0] if result.id in self.windows \
                    else self.sandbox_s[result.id]
                result.duration_s = sessions + self.evaluation_s[result.id]
                self._add(result, self._check(
                    result.id, verdict["check"], start_method=verdict["start_method"],
                    status=Status(verdict["status"]), message=verdict["message"],
                    output=verdict["output"], duration_s=session_s + report.duration,
                    timeline=verdict.get("timeline"), line=verdict.get("line"),
                    causes=list(verdict.get("causes", []))))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A check file that cannot be loaded: the exercise is not graded; its hidden checks
        file, a hidden check in error (what is wrong with it would tell what it checks)."""
        if report.failed:
            result = self._result_for(report.fspath)
            exercise = self.by_path.get(report.fspath)
            if result is not None and exercise is not None and exercise.hidden_checks is not None \
                    and exercise.hidden_checks.resolve() == (self.course.root / report.fspath).resolve():
                self._add(result, CheckResult(exercise.hidden_checks.name, None, Status.ERROR, hidden=True,
                                              message=f"the hidden checks could not be loaded:\n"
                                                      f"{report.longreprtext[-2000:]}"))
            elif result is not None:
                result.problem = f"the checks of this exercise could not be loaded:\n{report.longreprtext[-2000:]}"
            else:
                self.internal_errors.append(report.longreprtext[-2000:])


def _run_checks(course: Course, submissions: dict[Exercise, Path], options: Options, language: str,
                results: dict[str, ExerciseResult], tables: dict[str, CheckTable], seed: int,
                observer: Observer | None) -> bool:
    """Grade ``submissions`` into ``results``; True if the run was interrupted (Ctrl-C),
    in which case every session has been stopped and cleaned up."""
    plugins: list[Scheduler] = []
    args = [str(path) for ex in submissions for path in (ex.checks, ex.hidden_checks) if path is not None]
    # pytest's own log (quoted only when the grader fails) names no check: without its
    # summary, no failure, error or warning of a check (hidden ones included) is in it.
    # A misspelt marker (@pytest.mark.pionts) is an error, not a check scored all or nothing.
    args += ["-c", str(PYTEST_INI), "--rootdir", str(course.root), "-p", "grader.plugin",
             "-p", "pytest_timeout", "--no-summary", "--strict-markers",
             # a check file that does not load leaves its exercise not graded, not the others
             "--continue-on-collection-errors",
             # sys-level capture only: the live line writes to the terminal's file descriptor
             # while a check waits for its sessions, which fd-level capture would swallow.
             "--capture=sys",
             "--grade-lang", language, "--grade-seed", str(seed)]
    for exercise, path in submissions.items():
        args += ["--grade-submission", f"{exercise.module}={path.resolve()}"]
    for method in options.start_methods:
        args += ["--grade-start-method", method]
    if options.jobs > 1:
        args += ["-p", "xdist.plugin", "-n", str(options.jobs), "--dist", "loadfile"]
    collector = _Collector(course, results, tables, observer, language, options.teacher)
    log = io.StringIO()
    interrupted = True  # until pytest says otherwise: any exception on the way stops every session
    code = 2
    ctrl_c = _InterruptWatch()
    try:
        ctrl_c.install()
        if options.jobs == 1:
            scheduler = Scheduler(course, {ex.module: path.resolve() for ex, path in submissions.items()},
                                  options.start_methods, seed, order=list(submissions), language=language)
            plugins.append(scheduler)
            # A check file that does not load is said by its collection (not graded), a plan
            # that raises by its checks: neither stops the run here.
            with contextlib.suppress(Exception):
                scheduler.start(next(iter(submissions)))
        with ctrl_c.held():
            import pytest  # only now: the first sandboxes are already running

        # Plugins are named above: scanning every installed package's entry points for
        # others costs a tenth of a second per run, and a student's unrelated pytest
        # plugins have no business in a grading run.
        with contextlib.redirect_stdout(log), _environment(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"):
            extra = [_XdistCollection(collector)] if options.jobs > 1 else []
            code = pytest.main(args, plugins=[collector, *extra, *plugins])
        interrupted = code == pytest.ExitCode.INTERRUPTED or ctrl_c.fired
    except KeyboardInterrupt:
        pass
    except Exception:  # a fault of the grader itself (unless Ctrl-C came first and this is its echo)
        interrupted = ctrl_c.fired
        collector.internal_errors.append(traceback.format_exc()[-3000:])
    finally:
        ctrl_c.uninstall()
        for plugin in plugins:
            plugin.close(abort=interrupted)
    if interrupted:
        for exercise in submissions:
            if results[exercise.id].status is Status.PASSED or not results[exercise.id].checks:
                results[exercise.id].problem = text("grader.interrupted", language)
        return True
    collector.add_missing(language)
    collector.choose_hints(language)
    for exercise in submissions:
        result = results[exercise.id]
        if not result.checks and not result.problem:
            result.problem = text("grader.internal_error", language, code=int(code),
                                  log="\n".join(collector.internal_errors) or log.getvalue()[-3000:])
    return False
