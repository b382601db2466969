"""When sandbox sessions start: all start methods of an exercise at once, and ahead of
the checks that read them.

A check file's plan is drawn from a generator seeded with ``(seed, exercise id)``, so
whoever starts the sessions (the runner, before pytest has even been imported, or the
pytest plugin) gets the same calls. With an ``order`` of exercises, asking for one
exercise's results also starts the next exercise's sessions, so a run of several
exercises keeps the sandboxes busy while checks are being evaluated.

Each session's result is collected by a thread of its own as soon as the session ends,
not when a check first asks for it: a session's ``duration_s`` and its :meth:`window`
(when it started and ended) are then the time of its own work, however early it was
started or late it was read.

A plan marked ``timed`` (exercise-4 measures speed-ups) runs its sessions one at a time,
after the sessions already running have ended, and the next exercise's sessions start
only once its own have ended: its timings are not those of a machine shared with other
sandboxes of the same run.

When a call outlives its timeout, the calls after it cannot run in that session (its
worker was stopped): they run in a fresh session of the same plan, once. If a call
hangs there too, the calls after that one are not run (a hanging submission costs at
most two timeouts per start method, never a loop).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.check import Plan
from grader.manifest import Course, Exercise
from grader.sandbox import SessionResult, SessionSpec
from grader.excerpt import TailExcerpt
from grader.sandbox.session import RunningSession

RERUNS = 1  # fresh sessions for the calls after a timeout, per session


@dataclass(eq=False)
class _Collected:
    """A session and the thread that collects its result the moment it ends (then, after
    a timeout, runs the calls that did not run in a fresh session, :data:`RERUNS` times
    at most). With ``after``, the session starts only once those have ended."""

    spec: SessionSpec
    language: str
    after: list[_Collected] = field(default_factory=list)
    session: RunningSession | None = None
    outcome: SessionResult | None = None
    error: BaseException | None = None
    aborted: bool = False
    started: float | None = None  # time.monotonic() when its (first) session started
    ended: float | None = None  # ... and when its (last) session ended
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None

    def start(self) -> _Collected:
        if not self.after:  # at once, in the caller: a failure to start is the caller's to see
            self._open(self.spec)
        self.thread = threading.Thread(target=self._collect, name=f"grade-session-{self.spec.module}", daemon=True)
        self.thread.start()
        return self

    def _open(self, spec: SessionSpec) -> bool:
        """Start a session of ``spec``, unless the run was aborted."""
        with self.lock:
            if self.aborted:
                return False
            if self.started is None:
                self.started = time.monotonic()
            self.session = RunningSession(spec, TailExcerpt(self.language))
            return True

    def _collect(self) -> None:
        try:
            for other in self.after:
                other.wait()
            if self.session is None and not self._open(self.spec):
                raise RuntimeError("the run was stopped before this session started")
            result = self.session.result()
            for _ in range(RERUNS):
                rest = _not_run_after_timeout(result)
                if not rest or not self._open(dataclasses.replace(self.spec, calls=rest)):
                    break
                result = _merged(result, self.session.result())
            self.outcome = result
        except BaseException as error:  # handed to whoever waits for the result
            self.error = error
        finally:
            self.ended = time.monotonic()

    def kill(self) -> None:
        with self.lock:
            self.aborted = True
            if self.session is not None:
                self.session.kill()

    def wait(self) -> None:
        self.thread.join()

    def result(self) -> SessionResult:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.outcome


def _not_run_after_timeout(result: SessionResult) -> tuple:
    """The calls a timeout kept from running (in plan order), or () if none did. After
    an import that did not finish, only scripts: a function call imports the module
    first, so it would hang the same way."""
    statuses = [result.outcomes[call.name].status for call in result.spec.calls]
    if "timeout" not in statuses or result.error or result.tampering:
        return ()
    hung = statuses.index("timeout")
    import_hung = result.spec.calls[hung].kind == "import"
    return tuple(call for call, status in zip(result.spec.calls[hung + 1:], statuses[hung + 1:])
                 if status == "not_run" and (call.kind == "script" or not import_hung))


def _merged(first: SessionResult, rerun: SessionResult) -> SessionResult:
    """One result for a plan run in two sessions: the outcomes of the calls run again
    replace their ``not_run``; durations add up (the sessions ran one after the other)."""
    outcomes = dict(first.outcomes)
    outcomes.update(rerun.outcomes)
    return SessionResult(
        first.spec, outcomes, first.worker_pid, first.duration_s + rerun.duration_s,
        error=first.error or rerun.error, tampering=first.tampering + rerun.tampering,
        oom_kills=first.oom_kills + rerun.oom_kills, incomplete=first.incomplete + rerun.incomplete)


@dataclass(eq=False)  # a pytest plugin object: hashed by identity
class Scheduler:
    course: Course
    submissions: dict[str, Path]
    start_methods: tuple[str, ...]
    seed: int
    order: list[Exercise] = field(default_factory=list)
    language: str = "en"
    _running: dict[tuple[str, str], _Collected] = field(default_factory=dict)
    _done: dict[tuple[str, str], SessionResult] = field(default_factory=dict)
    _windows: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    _started: set[str] = field(default_factory=set)
    _timed: list[_Collected] = field(default_factory=list)  # the sessions of the last timed plan

    def methods(self, exercise: Exercise) -> list[str]:
        """The exercise's start methods, restricted to the ones asked for."""
        return [m for m in exercise.start_methods if not self.start_methods or m in self.start_methods]

    def plan(self, exercise: Exercise) -> Plan:
        spec = importlib.util.spec_from_file_location(f"_grade_plan_{exercise.module}", exercise.checks)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.plan(random.Random(f"{self.seed}:{exercise.id}"))

    def start(self, exercise: Exercise) -> None:
        """Start the sessions of every start method of ``exercise`` (once)."""
        if exercise.id in self._started:
            return
        self._started.add(exercise.id)
        plan = self.plan(exercise)
        submission = self.submissions.get(exercise.module, self.course.exercises_dir / f"{exercise.module}.py")
        # A timed plan's sessions wait for every session running, then for each other;
        # any other waits for the sessions of a timed plan still running.
        after = list(self._running.values()) if plan.timed else list(self._timed)
        timed = []
        for method in self.methods(exercise):
            spec = SessionSpec(
                module=exercise.module, submission=submission, start_method=method,
                calls=tuple(plan.calls), timeout_s=plan.timeout_s or exercise.timeout,
                traced=plan.traced, align=plan.align, order=plan.order,
            )
            collected = _Collected(spec, self.language, after=after + timed).start()
            self._running[exercise.id, method] = collected
            if plan.timed:
                timed.append(collected)
        if plan.timed:
            self._timed = timed

    def result(self, exercise: Exercise, method: str) -> SessionResult:
        """The session's result, waiting for it if needed; starts the next exercise too."""
        key = (exercise.id, method)
        if key not in self._done:
            self.start(exercise)
            following = self.order[self.order.index(exercise) + 1:] if exercise in self.order else []
            if following:
                self.start(following[0])
            collected = self._running[key]
            self._done[key] = collected.result()  # still in _running if interrupted: close() stops it
            self._windows[key] = (collected.started or 0.0, collected.ended or 0.0)
            del self._running[key]
        return self._done[key]

    def window(self, exercise: Exercise, method: str) -> tuple[float, float] | None:
        """When the session(s) of ``exercise`` under ``method`` started and ended
        (``time.monotonic()``), once its result has been read."""
        return self._windows.get((exercise.id, method))

    def close(self, abort: bool = False) -> None:
        """Wait for (and clean up after) sessions nobody asked for; with ``abort``
        (Ctrl-C), stop them first. Every session is closed, even when one fails."""
        running, self._running = list(self._running.values()), {}
        if abort:
            for session in running:
                session.kill()
        errors = []
        for session in running:
            try:
                session.result()
            except Exception as error:  # close the others all the same
                errors.append(error)
        if errors:
            raise errors[0]
