"""How long one call of a submission may take: one source of truth, fitted to the machine.

The timeout of an exercise's calls is set in ``exercises.yaml`` only, by the first of:

1. ``timeout:`` in the exercise's entry (a number of seconds, or ``auto``);
2. ``timeout:`` in the manifest's ``defaults`` (the same);
3. ``auto``, built in.

A number is the timeout, as it is. ``auto`` is::

    K x R x scale + FLOOR_S + harness        (rounded up to 0.1 s, at most AUTO_MAX_S)

- ``R``: the reference solution's slowest call (over the plan's calls and the start
  methods), **measured** on this machine where ``solutions/<module>.py`` exists: the
  exercise's plan (inputs drawn from a fixed seed) is run on the solution once, under
  every start method of the exercise at once (as grading runs them), the first time the
  exercise is graded (exercise by exercise, not the whole course at once). The durations
  are cached in ``.grade/timeouts/<module>.json``, keyed by the hashes of the solution and
  of the check file, the Python version and the host; another key measures again, a
  corrupt file is measured again with one line of note.
  In a copy of the course without ``solutions/`` (``grade export``), ``R`` is **shipped**:
  the durations the teacher measured, in :data:`SHIPPED` (``python -m grader.timeouts
  --ship`` writes it). With neither, the timeout is :data:`FALLBACK_S` (**fallback**).
- ``scale`` (at least 1): how much less CPU this run has than the measurement had: the
  CPUs this process may use (its affinity, a CFS quota of its cgroup; :func:`cpus`,
  counted up to :data:`CPU_CAP`) and, for shipped durations, one core's speed
  (:func:`probe`: a fixed piece of Python, here and on the teacher's machine). A
  CPU throttled after the reference was measured, or a student's machine slower than
  the teacher's, gets longer timeouts at once; a busier machine does not (``K``).
- ``harness``: how long the grader's own harnesses may hold a call by design (the
  ordering harness's window, the rendezvous's wait for each missing party): the
  grader's time, not the submission's.

``K`` covers a correct or instructively wrong submission that is slower than the
reference (one process at a time instead of four: x4 to x6 here) on a machine busier
than when the reference was measured; ``FLOOR_S``, the start-up jitter of calls that take
hundredths of a second. Deadlocks are answered before the timeout whatever it is (the
deadlock detector): only a submission that computes or sleeps for ever waits for it.

A check file's plan states no timeout: what a plan needs (exercise-4's CPU-bound work,
exercise-8's long loops) is what its reference solution takes, which ``auto`` measures.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import platform
import socket
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import msgspec

from grader.check import Plan, load_plan
from grader.i18n import text
from grader.manifest import Course, Exercise
from grader.progress import STATE_FOLDER, _ignore_in_git, write_atomically
from grader.sandbox import SessionResult, SessionSpec
from grader.sandbox.session import RunningSession

K = 8.0
FLOOR_S = 2.0
AUTO_MAX_S = 120.0
FALLBACK_S = 10.0  # auto with neither a reference solution nor shipped reference times
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
CPU_CAP = 4  # no reference runs more processes at once: more CPUs than this change nothing
MEASURE_TIMEOUT_S = 30.0  # per call of the reference solution, while it is measured
MEASURE_SEED = "reference"
CACHE_FOLDER = "timeouts"  # in .grade/
SHIPPED = Path("grader") / "checks" / "reference_times.json"
FORMAT_VERSION = 1
FINISHED = ("returned", "exited")


class Durations(msgspec.Struct, forbid_unknown_fields=False):
    """The reference solution's calls (start method -> call name -> seconds), and what
    they were measured with."""

    calls: dict[str, dict[str, float]]
    solution: str  # sha256 of solutions/<module>.py
    checks: str  # sha256 of the check file
    harness_s: float  # how long the plan's harnesses may hold a call (:func:`harness_s`)
    python: str
    host: str
    measured_at: float  # time.time()
    probe_s: float  # :func:`probe` then
    cpus: float  # :func:`cpus` then


class _CacheFile(msgspec.Struct):
    format_version: int
    durations: Durations


class _ShippedFile(msgspec.Struct):
    format_version: int
    exercises: dict[str, Durations]  # by module


@dataclass(frozen=True)
class Reference:
    """The reference solution's durations, and how much slower this run's CPU is."""

    durations: Durations
    scale: float = 1.0

    @property
    def measured_s(self) -> float:
        """Its slowest call, as measured."""
        return max(seconds for calls in self.durations.calls.values() for seconds in calls.values())

    @property
    def slowest_s(self) -> float:
        """Its slowest call, for this run's CPU."""
        return self.measured_s * self.scale

    def of(self, call: str, method: str) -> float:
        """Its time for the call named ``call`` under ``method`` (inputs from another
        seed), for this run's CPU; its slowest call's when it has no such call."""
        seconds = self.durations.calls.get(method, {}).get(call)
        return self.slowest_s if seconds is None else seconds * self.scale


@dataclass(frozen=True)
class Timeout:
    """The timeout in force for one exercise's calls, and where it comes from:
    ``exercise`` or ``defaults`` (a number in exercises.yaml), or auto: ``measured``,
    ``shipped`` or ``fallback``."""

    seconds: float
    source: str
    reference: Reference | None = None


def auto(reference: Reference, source: str) -> Timeout:
    """The timeout ``auto`` gives for ``reference`` (``source``: measured or shipped)."""
    return Timeout(auto_seconds(reference.slowest_s, reference.durations.harness_s), source, reference)


def auto_seconds(reference_s: float, harness: float) -> float:
    """``auto`` for a reference whose slowest call takes ``reference_s``, and a plan whose
    harnesses may hold a call ``harness`` seconds: rounded up to a tenth of a second."""
    return min(AUTO_MAX_S, math.ceil((K * reference_s + FLOOR_S + harness) * 10) / 10)


def harness_s(plan: Plan) -> float:
    """How long the plan's harnesses may hold one call: the ordering harness waits for
    a position that never arrives until its window has passed; the rendezvous, for each
    missing party until its timeout (processes run one after the other)."""
    held = 0.0
    if plan.order is not None:
        held += plan.order.window_s + plan.order.grace_s
    if plan.align is not None:
        held += (plan.align.parties - 1) * plan.align.timeout_s
    return held


def describe(timeout: Timeout, exercise: Exercise, language: str) -> str:
    """Where ``timeout`` comes from, in one sentence (``grade show``)."""
    reference = timeout.reference
    if reference is None:
        return text(f"show.timeout.{timeout.source}", language, id=exercise.id, seconds=f"{timeout.seconds:g}")
    shown = f"{reference.measured_s:.2f} s" + (f" × {reference.scale:.2g}" if reference.scale != 1 else "")
    added = f"{FLOOR_S:g} s" + (f" + {reference.durations.harness_s:g} s" if reference.durations.harness_s else "")
    return text(f"show.timeout.{timeout.source}", language, k=f"{K:g}", reference=shown, added=added,
                when=time.strftime("%Y-%m-%d", time.localtime(reference.durations.measured_at)))


def upper_bound(exercise: Exercise) -> float:
    """The longest the exercise's calls may be allowed, without resolving ``auto``."""
    return exercise.timeout if exercise.timeout is not None else AUTO_MAX_S


def digest(path: Path) -> str:
    """sha256 of a file's bytes; '' when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


@functools.cache
def probe() -> float:
    """Seconds one core takes for a fixed piece of pure Python (the best of 5 runs of 3 to
    10 ms here), measured once per process."""
    best = math.inf
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for number in range(60_000):
            total += number * number % 7
        best = min(best, time.perf_counter() - started)
    return best


def cpus() -> float:
    """The CPUs this process may use: its affinity, less where a CFS quota of its cgroup
    or of one above it allows less (cgroup v1 ``cpu.cfs_quota_us``, v2 ``cpu.max``)."""
    available = float(len(os.sched_getaffinity(0)))
    try:
        lines = PROC_CGROUP.read_text().splitlines()
    except OSError:
        return available
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2
            mounts, files = [CGROUP_ROOT], ("cpu.max",)
        elif "cpu" in controllers.split(","):  # cgroup v1
            mounts, files = [CGROUP_ROOT / controllers, CGROUP_ROOT / "cpu"], ("cpu.cfs_quota_us", "cpu.cfs_period_us")
        else:
            continue
        relative = Path(path.lstrip("/"))
        for mount in mounts:
            for folder in (relative, *relative.parents):
                available = min(available, _quota(mount / folder, files))
    return available


def _quota(folder: Path, files: tuple[str, ...]) -> float:
    """The CPUs a cgroup's CFS quota allows (infinity: no quota)."""
    try:
        words = [word for name in files for word in (folder / name).read_text().split()]
        quota, period = words[0], words[1]
        return math.inf if quota in ("max", "-1") else int(quota) / int(period)
    except (OSError, IndexError, ValueError, ZeroDivisionError):
        return math.inf


def scale(durations: Durations, other_machine: bool = False) -> float:
    """How much less CPU this run has than the measurement of ``durations`` had (at
    least 1): fewer CPUs (:func:`cpus`) and, on ``other_machine``, slower ones (:func:`probe`)."""
    then, now = min(durations.cpus, CPU_CAP), min(cpus(), CPU_CAP)
    fewer = then / now if now > 0 else 1.0
    slower = probe() / durations.probe_s if other_machine and durations.probe_s > 0 else 1.0
    return max(1.0, fewer) * max(1.0, slower)  # more or faster CPUs: never shorter (the serial parts)


def run_plan(exercise: Exercise, plan: Plan, path: Path,
             sessions: list[RunningSession] | None = None) -> dict[str, SessionResult]:
    """Run ``plan`` on the file ``path`` under every start method of the exercise at once
    (as grading runs them), each call allowed :data:`MEASURE_TIMEOUT_S`. The sessions are
    added to ``sessions`` as they start (to be stopped from elsewhere)."""
    started: dict[str, RunningSession] = {}
    try:
        for method in exercise.start_methods:
            started[method] = RunningSession(SessionSpec(
                module=exercise.module, submission=path, start_method=method, calls=tuple(plan.calls),
                timeout_s=MEASURE_TIMEOUT_S, **plan.instrumentation()))
            if sessions is not None:
                sessions.append(started[method])
    except BaseException:  # one could not start: the others leave nothing behind
        for session in started.values():
            session.kill()
            session.result()
        raise
    return {method: session.result() for method, session in started.items()}


def measure(exercise: Exercise, plan: Plan, path: Path,
            sessions: list[RunningSession] | None = None) -> dict[str, dict[str, float]]:
    """Each call's duration (start method -> call name -> seconds) of ``plan`` run on
    ``path`` (:func:`run_plan`). Raises :class:`MeasureError` when a call does not return."""
    durations: dict[str, dict[str, float]] = {}
    for method, result in run_plan(exercise, plan, path, sessions).items():
        for call in plan.calls:
            outcome = result.outcomes[call.name]
            if outcome.status not in FINISHED:
                raise MeasureError(f"{call.name}() {outcome.status} under {method}")
            durations.setdefault(method, {})[call.name] = round(outcome.duration_s, 4)
    return durations


class MeasureError(Exception):
    """The reference solution could not be measured (a call of it did not finish)."""


@dataclass
class Timeouts:
    """The timeouts of one course's exercises, each resolved once. Thread-safe: the
    session threads of an exercise ask together, one of them measures. ``note`` gets
    one line for what the student should know (a corrupt cache, a reference that could
    not be measured)."""

    course: Course
    note: Callable[[str], None] = lambda line: print(line, file=sys.stderr)
    _resolved: dict[str, Timeout] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _measuring: list[RunningSession] = field(default_factory=list)
    _stopped: bool = False
    _stale: set[str] = field(default_factory=set)  # exercises whose cache was read and is of no use

    def known(self, exercise: Exercise) -> Timeout | None:
        """The timeout, if it can be told without running the reference solution."""
        if exercise.id in self._resolved:
            return self._resolved[exercise.id]
        if exercise.timeout is not None:
            return self._keep(exercise, Timeout(exercise.timeout, exercise.timeout_from))
        if not self._solution(exercise).is_file():
            return self._keep(exercise, self._shipped(exercise))
        durations = None if exercise.id in self._stale else self._cached(exercise)
        if durations is None:
            self._stale.add(exercise.id)
            return None
        return self._keep(exercise, auto(Reference(durations, scale(durations)), "measured"))

    def resolve(self, exercise: Exercise) -> Timeout:
        """The timeout in force, measuring the reference solution if it must."""
        with self._lock:
            lock = self._locks.setdefault(exercise.id, threading.Lock())
        with lock:
            known = self.known(exercise)
            if known is not None:
                return known
            if self._stopped:
                raise RuntimeError("the run was stopped before the reference solution was measured")
            plan = load_plan(exercise, f"{MEASURE_SEED}:{exercise.id}")
            solution, checks, python, host = self._key(exercise)
            try:
                calls = measure(exercise, plan, self._solution(exercise), self._measuring)
            except (MeasureError, OSError) as error:
                if self._stopped:
                    raise RuntimeError("the run was stopped while the reference solution was measured") from None
                self.note(f"grade: note: the reference solution of {exercise.id} could not be measured ({error}): "
                          f"its calls may take {FALLBACK_S:g} s")
                return self._keep(exercise, Timeout(FALLBACK_S, "fallback"))
            durations = Durations(calls, solution, checks, harness_s(plan), python, host, time.time(), probe(), cpus())
            self._save(exercise, durations)
            return self._keep(exercise, auto(Reference(durations), "measured"))

    def stop(self) -> None:
        """Stop the measurements under way (Ctrl-C); none starts from now on."""
        with self._lock:
            self._stopped = True
        for session in list(self._measuring):
            session.kill()

    def _keep(self, exercise: Exercise, timeout: Timeout) -> Timeout:
        self._resolved[exercise.id] = timeout
        return timeout

    def _solution(self, exercise: Exercise) -> Path:
        return self.course.solutions_dir / f"{exercise.module}.py"

    def _cache_path(self, exercise: Exercise) -> Path:
        return self.course.root / STATE_FOLDER / CACHE_FOLDER / f"{exercise.module}.json"

    def _key(self, exercise: Exercise) -> tuple[str, str, str, str]:
        """What a measurement holds for: the solution's and the check file's hashes, the
        Python version and the host."""
        return (digest(self._solution(exercise)), digest(exercise.checks),
                f"{platform.python_implementation()} {platform.python_version()}", socket.gethostname())

    def _cached(self, exercise: Exercise) -> Durations | None:
        """The cached durations when their key is this one's; None when there are none."""
        path = self._cache_path(exercise)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            cached = msgspec.json.decode(data, type=_CacheFile)
            if cached.format_version != FORMAT_VERSION or not _complete(cached.durations, exercise):
                raise msgspec.ValidationError("not the durations of every start method")
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            self.note(f"grade: note: {path} was unreadable ({error}): the reference solution is measured again")
            return None
        found = cached.durations
        return found if (found.solution, found.checks, found.python, found.host) == self._key(exercise) else None

    def _save(self, exercise: Exercise, durations: Durations) -> None:
        try:
            folder = self.course.root / STATE_FOLDER
            folder.mkdir(exist_ok=True)
            _ignore_in_git(folder)
            write_atomically(self._cache_path(exercise), msgspec.json.encode(_CacheFile(FORMAT_VERSION, durations)))
        except OSError as error:
            self.note(f"grade: note: the reference solution's times were not saved ({error.strerror or error})")

    def _shipped(self, exercise: Exercise) -> Timeout:
        """From the teacher's durations, when they are for this check file; else the fallback."""
        try:
            shipped = msgspec.json.decode((self.course.root / SHIPPED).read_bytes(), type=_ShippedFile)
        except (OSError, msgspec.ValidationError, msgspec.DecodeError):
            return Timeout(FALLBACK_S, "fallback")
        durations = shipped.exercises.get(exercise.module)
        if (shipped.format_version != FORMAT_VERSION or durations is None
                or durations.checks != digest(exercise.checks) or not _complete(durations, exercise)):
            return Timeout(FALLBACK_S, "fallback")
        return auto(Reference(durations, scale(durations, other_machine=True)), "shipped")


def _complete(durations: Durations, exercise: Exercise) -> bool:
    """Durations for every start method of the exercise, each of at least one call."""
    return all(durations.calls.get(method) for method in exercise.start_methods)


def ship(course: Course, target: Path | None = None) -> Path:
    """Write the reference solutions' durations (measured here, or cached) to ``target``
    (default: the course's :data:`SHIPPED`), for copies of the course without
    ``solutions/``; returns the file written."""
    timeouts = Timeouts(course)
    shipped = {}
    for exercise in course.exercises:
        timeout = timeouts.resolve(replace(exercise, timeout=None))  # measured even where a number rules
        if timeout.source == "measured" and timeout.reference is not None:
            shipped[exercise.module] = msgspec.structs.replace(timeout.reference.durations, host="")  # the host name stays here
    path = target or course.root / SHIPPED
    write_atomically(path, msgspec.json.format(msgspec.json.encode(_ShippedFile(FORMAT_VERSION, shipped)), indent=1))
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m grader.timeouts [--ship] [--course DIR]``: each exercise's timeout and
    where it comes from (measuring what must be); ``--ship`` also writes the reference
    solutions' durations for copies of the course without ``solutions/``."""
    import argparse

    from grader.manifest import find_course_root, load_course

    parser = argparse.ArgumentParser(prog="python -m grader.timeouts", description=main.__doc__)
    parser.add_argument("--ship", action="store_true", help=f"write {SHIPPED.as_posix()}")
    parser.add_argument("--course", type=Path, default=None, help="the course folder (default: found from here)")
    args = parser.parse_args(argv)
    root = args.course or find_course_root()
    if root is None:
        parser.error("no exercises.yaml found")
    course = load_course(root)
    timeouts = Timeouts(course)
    for exercise in course.exercises:
        timeout = timeouts.resolve(exercise)
        print(f"{exercise.id:<12} {timeout.seconds:5g} s  {describe(timeout, exercise, 'en')}")
    if args.ship:
        print(f"wrote {ship(course)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
