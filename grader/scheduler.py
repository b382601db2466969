"""When sandbox sessions start: all start methods of an exercise at once, and ahead of
the checks that read them.

A check file's plan is drawn from a generator seeded with ``(seed, exercise id)``, so
whoever starts the sessions (the runner, before pytest has even been imported, or the
pytest plugin) gets the same calls. With an ``order`` of exercises, the next exercise's
sessions start as soon as at most :data:`LOOKAHEAD_SESSIONS` sessions are still running
(at most two exercises' sessions at once, as when they started only once the checks asked
for the current exercise's results): a run of several exercises keeps the cores busy
while one exercise's slowest session (spawn, usually) ends and its checks are evaluated,
rather than waiting for the checks to move on.

Each session's result is collected by a thread of its own as soon as the session ends,
not when a check first asks for it: a session's ``duration_s`` and its :meth:`window`
(when it started and ended) are then the time of its own work, however early it was
started or late it was read.

A plan marked ``timed`` (exercise-4 measures speed-ups) runs its sessions one at a time,
after the sessions already running have ended, and the next exercise's sessions start
only once its own have ended: its timings are not those of a machine shared with other
sandboxes of the same run. Only the calls no harness holds are timed: a call the
rendezvous (``Align``) or the ordering harness (``Order``) holds waits for the grader, so
its duration is not the submission's and no timing is read from it (exercise-4 times
calls of its own for this reason). Those held calls run in a session of their own, under
each start method, beside other sessions like any plan's; the timed calls run alone,
after them, and the two sessions' outcomes are read as one.

A call's timeout is the exercise's (:mod:`grader.timeouts`: a number of ``exercises.yaml``,
or ``auto``). When ``auto`` needs the reference solution measured first (the first time
the exercise is graded on this machine), the exercise's sessions are opened by their own
threads, the first of them measuring while the others wait: the caller, and the sessions
of other exercises, go on meanwhile.

When a call outlives its timeout, the calls after it cannot run in that session (its
worker was stopped): they run in a fresh session of the same plan, once. If a call
hangs there too, the calls after that one are not run (a hanging submission costs at
most two timeouts per start method, never a loop).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from grader.check import Plan, load_plan
from grader.excerpt import TailExcerpt
from grader.manifest import Course, Exercise
from grader.sandbox import CallOutcome, SessionResult, SessionSpec
from grader.sandbox.session import RunningSession
from grader.timeouts import Timeout, Timeouts

RERUNS = 1  # fresh sessions for the calls after a timeout, per session
LOOKAHEAD_SESSIONS = 3  # the next exercise starts when no more than this many sessions run


@dataclass(eq=False)
class _Collected:
    """A session and the thread that collects its result the moment it ends (then, after
    a timeout, runs the calls that did not run in a fresh session, :data:`RERUNS` times
    at most). With ``after``, the session starts only once those have ended; with
    ``timeout``, its thread first learns the calls' timeout from it."""

    spec: SessionSpec
    language: str
    after: list[_Collected] = field(default_factory=list)
    deferred: bool = False  # opened by its own thread (started ahead: a failure shows when it is read)
    timeout: Callable[[], Timeout] | None = None  # the timeout, when it is not known yet (measured)
    on_end: Callable[[], None] | None = None  # told (in the collecting thread) when it has ended
    session: RunningSession | None = None
    outcome: SessionResult | None = None
    error: BaseException | None = None
    aborted: bool = False
    started: float | None = None  # time.monotonic() when its (first) session started
    ended: float | None = None  # ... and when its (last) session ended
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None

    def start(self) -> _Collected:
        if not self.after and not self.deferred and self.timeout is None:
            # at once, in the caller: a failure to start is the caller's to see
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
            if self.timeout is not None:
                self.spec = dataclasses.replace(self.spec, timeout_s=self.timeout().seconds)
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
            if self.on_end is not None:
                try:
                    self.on_end()
                except Exception:  # starting what comes next is best effort; the checks start it anyway
                    pass

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
    replace their ``not_run``; the rest as :func:`_combined` says."""
    return _combined(first.spec, {**first.outcomes, **rerun.outcomes}, (first, rerun))


def _combined(spec: SessionSpec, outcomes: dict[str, CallOutcome], parts: tuple[SessionResult, ...]) -> SessionResult:
    """One result of ``spec`` from the results of the sessions that ran its calls, one
    after the other (the first part's worker is the one named): durations add up, and
    whatever makes one part untrustworthy makes the whole so (errors, tampering, memory
    kills, cut-short records and processes not observed are all kept)."""
    return SessionResult(
        spec, outcomes, parts[0].worker_pid, sum(part.duration_s for part in parts),
        error=_joined(part.error for part in parts),
        tampering=[record for part in parts for record in part.tampering],
        oom_kills=sum(part.oom_kills for part in parts),
        # pids of different sessions (PID namespaces) may coincide: one entry per process cut short
        incomplete=[pid for part in parts for pid in part.incomplete],
        unobserved=_joined(part.unobserved for part in parts),
        disk_full=any(part.disk_full for part in parts), flooded=any(part.flooded for part in parts),
        left_at_exit=[leak for part in parts for leak in part.left_at_exit])


def _joined(reasons: Iterable[str]) -> str:
    """The distinct non-empty ``reasons``, in order, as one ('' when there are none)."""
    return "; ".join(dict.fromkeys(reason for reason in reasons if reason))


def _held(plan: Plan) -> set[str]:
    """The calls of ``plan`` a harness holds (an empty ``Align.calls`` means every call)."""
    held = set(plan.order.calls) if plan.order is not None else set()
    if plan.align is not None:
        held |= set(plan.align.calls) if plan.align.calls else {call.name for call in plan.calls}
    return held


@dataclass(eq=False)
class _Split:
    """A timed plan run as two sessions (see the module's notes): the calls a harness
    holds, beside other sessions, and the timed calls, alone; read as one result, its
    outcomes in the plan's order."""

    spec: SessionSpec  # the whole plan's
    parts: tuple[_Collected, ...]

    @property
    def started(self) -> float | None:
        return min((part.started for part in self.parts if part.started is not None), default=None)

    @property
    def ended(self) -> float | None:
        if any(part.ended is None for part in self.parts):
            return None
        return max(part.ended for part in self.parts)

    def kill(self) -> None:
        for part in self.parts:
            part.kill()

    def wait(self) -> None:
        for part in self.parts:
            part.wait()

    def result(self) -> SessionResult:
        results = tuple(part.result() for part in self.parts)
        outcomes = {call.name: next(r.outcomes[call.name] for r in results if call.name in r.outcomes)
                    for call in self.spec.calls}
        return _combined(dataclasses.replace(self.spec, timeout_s=results[0].spec.timeout_s), outcomes, results)


@dataclass(eq=False)  # a pytest plugin object: hashed by identity
class Scheduler:
    course: Course
    submissions: dict[str, Path]
    start_methods: tuple[str, ...]
    seed: int
    order: list[Exercise] = field(default_factory=list)
    language: str = "en"
    timeouts: Timeouts | None = None  # default: the course's, resolved by this scheduler
    _running: dict[tuple[str, str], _Collected | _Split] = field(default_factory=dict)
    _done: dict[tuple[str, str], SessionResult] = field(default_factory=dict)
    _windows: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    _started: set[str] = field(default_factory=set)
    _timed: list[_Collected] = field(default_factory=list)  # the sessions of the last timed plan
    _unplanned: set[str] = field(default_factory=set)  # exercises whose plan failed to load ahead
    _closed: bool = False
    _lock: threading.RLock = field(default_factory=threading.RLock)  # sessions end in their own threads

    def __post_init__(self) -> None:
        if self.timeouts is None:
            self.timeouts = Timeouts(self.course)

    def timeout(self, exercise: Exercise) -> Timeout:
        """The timeout of the exercise's calls (measuring the reference solution if it must)."""
        return self.timeouts.resolve(exercise)

    def methods(self, exercise: Exercise) -> list[str]:
        """The exercise's start methods, restricted to the ones asked for."""
        return [m for m in exercise.start_methods if not self.start_methods or m in self.start_methods]

    def plan(self, exercise: Exercise) -> Plan:
        return load_plan(exercise, f"{self.seed}:{exercise.id}")

    def start(self, exercise: Exercise) -> None:
        """Start the sessions of every start method of ``exercise`` (once), and the next
        exercises' if few sessions are running."""
        with self._lock:
            self._start(exercise)
            self._look_ahead()

    def _look_ahead(self) -> None:
        """Start the next exercise of ``order`` not started yet while at most
        :data:`LOOKAHEAD_SESSIONS` sessions are running (a session waiting for a timed
        plan counts as running). Its sessions open in their own threads: a failure to
        start shows when its checks read them."""
        with self._lock:
            while not self._closed:
                following = next((ex for ex in self.order if ex.id not in self._started), None)
                if following is None or following.id in self._unplanned or self._active() > LOOKAHEAD_SESSIONS:
                    return
                try:
                    self._start(following, deferred=True)
                except Exception:  # its plan does not load: its checks start it, and see why
                    self._unplanned.add(following.id)
                    return

    def _active(self) -> int:
        return sum(1 for collected in self._running.values() if collected.ended is None)

    def _session_ended(self) -> None:
        self._look_ahead()

    def _start(self, exercise: Exercise, deferred: bool = False) -> None:
        if exercise.id in self._started or self._closed:
            return
        plan = self.plan(exercise)  # if it raises, not started: whoever asks next sees the error again
        self._started.add(exercise.id)
        submission = self.submissions.get(exercise.module, self.course.path_of(exercise))
        known = self.timeouts.known(exercise)
        # Unknown: the sessions' threads resolve it (one measures the reference, the others wait).
        timeout = None if known is not None else functools.partial(self.timeouts.resolve, exercise)
        specs = {method: SessionSpec(
            module=exercise.module, submission=submission, start_method=method,
            calls=tuple(plan.calls), timeout_s=known.seconds if known is not None else 0.0,
            **plan.instrumentation(),
        ) for method in self.methods(exercise)}
        held = _held(plan) if plan.timed else set()
        split = bool(held) and any(call.name not in held for call in plan.calls)
        # The held calls of a timed plan: sessions like any plan's (waiting only for a timed
        # plan still running), started first.
        parts: dict[str, _Collected] = {}
        for method, spec in (specs.items() if split else ()):
            part = dataclasses.replace(spec, calls=tuple(call for call in spec.calls if call.name in held))
            parts[method] = self._session(part, list(self._timed), deferred, timeout)
            self._running[exercise.id, f"{method} (held)"] = parts[method]  # closed with the rest, whatever happens
        # A timed plan's (timed) sessions wait for every session running, the held ones
        # included, then for each other; any other waits for the sessions of a timed plan
        # still running.
        after = list(self._running.values()) if plan.timed else list(self._timed)
        timed = []
        for method, spec in specs.items():
            if split:
                alone = dataclasses.replace(spec, calls=tuple(call for call in spec.calls if call.name not in held))
                session = self._session(alone, after + timed, deferred, timeout)
                self._running[exercise.id, method] = _Split(spec, (parts[method], session))
                del self._running[exercise.id, f"{method} (held)"]
            else:
                session = self._session(spec, after + timed, deferred, timeout)
                self._running[exercise.id, method] = session
            if plan.timed:
                timed.append(session)
        if plan.timed:
            self._timed = timed

    def _session(self, spec: SessionSpec, after: list, deferred: bool,
                 timeout: Callable[[], Timeout] | None) -> _Collected:
        collected = _Collected(spec, self.language, after=after, deferred=deferred, timeout=timeout,
                               on_end=self._session_ended)
        collected.start()
        return collected

    def result(self, exercise: Exercise, method: str) -> SessionResult:
        """The session's result, waiting for it if needed; starts the next exercise too."""
        key = (exercise.id, method)
        with self._lock:
            if key in self._done:
                return self._done[key]
            self.start(exercise)
            following = self.order[self.order.index(exercise) + 1:] if exercise in self.order else []
            if following:
                with contextlib.suppress(Exception):  # a plan that does not load: its own checks say so
                    self.start(following[0])
            collected = self._running[key]
        outcome = collected.result()  # still in _running if interrupted: close() stops it
        with self._lock:
            self._done[key] = outcome
            self._windows[key] = (collected.started or 0.0, collected.ended or 0.0)
            self._running.pop(key, None)
        return outcome

    def window(self, exercise: Exercise, method: str) -> tuple[float, float] | None:
        """When the session(s) of ``exercise`` under ``method`` started and ended
        (``time.monotonic()``), once its result has been read."""
        return self._windows.get((exercise.id, method))

    def close(self, abort: bool = False) -> None:
        """Wait for (and clean up after) sessions nobody asked for; with ``abort``
        (Ctrl-C), stop them first. Every session is closed, even when one fails; the
        first failure is raised then, unless the sessions were aborted."""
        with self._lock:
            self._closed = True  # nothing starts from now on
            running, self._running = list(self._running.values()), {}
        if abort:
            self.timeouts.stop()
            for session in running:
                session.kill()
        errors = []
        for session in running:
            try:
                session.result()
            except Exception as error:  # close the others all the same
                errors.append(error)
        if errors and not abort:  # after an abort, a session's error is the abort's echo
            raise errors[0]
