"""What a check file uses: the plan of calls, the ``run`` it asserts on, and failures.

A check file (``grader/checks/check_exNN_*.py``) defines ``plan(rng) -> Plan``, the
calls to make in the sandbox with inputs drawn from ``rng``, and ordinary pytest tests
taking the ``run`` fixture (one :class:`Run` per start method)::

    def plan(rng):
        return Plan([Call("values", "collect", ([rng.randint(1, 9)],))], traced=("job",))

    def test_values(run):
        outcome = run.returned("values")
        run.expect_value(outcome, expected)

A failed expectation raises :class:`CheckFailed` with a message for the student, built
from the catalogue in the student's language. The failure carries its *causes*: the
catalogue keys its message was built from, most telling first (``run.fail("ex08.lost_updates",
why=run.t("ex08.own_lock"))`` has the causes ``ex08.own_lock``, ``ex08.lost_updates``); the
hints of ``exercises.yaml`` tied to a cause are the ones shown after the failure.

What a failure explains from the session's records (the cause, who waited where, the
timeline, the line it points at) is built within the check's :class:`~grader.budget.FeedbackBudget`
(:meth:`Run.explain`): past it, the failure says only what failed.
"""

from __future__ import annotations

import ast
import functools
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn, TypeVar

from grader import diagnose
from grader.budget import FeedbackBudget
from grader.check_modules import load_check_module
from grader.diagnose import Said, causes_of, show
from grader.i18n import text
from grader.manifest import Exercise
from grader.results import Status
from grader.sandbox import Align, Call, CallOutcome, Order, Ref, SessionResult
from grader.sandbox.boot._grade_values import ballast, encode
from grader.sandbox.cgroups import SESSION_MEMORY
from grader.sandbox.disk import DISK_BYTES, DISK_FILES
from grader.sandbox.isolation import isolation
from grader.sandbox.trace import Observed, SeenProcess, Span
from grader.timeline import timeline

if TYPE_CHECKING:
    from grader.timeouts import Timeout

__all__ = ["Align", "Call", "CallOutcome", "CheckFailed", "Observed", "Order", "Plan", "Ref", "Run", "Said", "SeenProcess",
           "Span", "encode", "release_order"]

T = TypeVar("T")

# The least CPU time, as a share of one ballast's, that counts as one weighed call run by
# a process (the same loop costs a process more CPU time on a loaded machine, never less).
WEIGHED_SHARE = 0.4


@functools.cache
def ballast_cpu_s() -> float:
    """The CPU time one ballast (``_grade_values.ballast``) costs on this machine: the
    median of five, measured once per grader process in the calling thread."""
    costs = []
    for _ in range(5):
        start = time.thread_time()
        ballast()
        costs.append(time.thread_time() - start)
    return sorted(costs)[2]


@dataclass(frozen=True)
class Plan:
    """The calls a check file needs. It states no timeout: a call's timeout comes from
    ``exercises.yaml`` alone, by default measured from the reference solution
    (:mod:`grader.timeouts`)."""

    calls: list[Call]
    traced: tuple[str, ...] = ()
    # traced functions each of whose calls spends a ballast of CPU time between two marks
    # the kernel's accounting sees (:attr:`Observed.weighed_s`): where they ran is a kernel fact
    weighed: tuple[str, ...] = ()
    weigh_tasks: bool = False  # the same for every item of every task a pool worker runs
    shared_pages: bool = False  # count the pages of shared memory each process touched (SeenProcess.shared_pages)
    align: Align | None = None
    order: Order | None = None
    timed: bool = False  # measures speed: its sessions run alone (see grader.scheduler)

    def __post_init__(self) -> None:
        """A plan whose harness could never be shown to work is the check file's mistake:
        a weighed function must be traced, and a rendezvous must be on a weighed one."""
        untraced = [name for name in self.weighed if name not in self.traced]
        if untraced:
            raise ValueError(f"Plan: weighed {untraced} must be traced too (traced={list(self.traced)})")
        if self.align is not None and self.align.function not in self.weighed:
            raise ValueError(f"Plan: Align({self.align.function!r}) needs {self.align.function!r} in weighed: "
                             "the kernel must see the parties meet")

    def instrumentation(self) -> dict[str, Any]:
        """What the sandbox is to trace, weigh, count and hold: the plan's fields of the
        same names in :class:`~grader.sandbox.SessionSpec`."""
        return {"traced": self.traced, "weighed": self.weighed, "weigh_tasks": self.weigh_tasks,
                "shared_pages": self.shared_pages, "align": self.align, "order": self.order}


def load_plan(exercise: Exercise, seed: str) -> Plan:
    """The plan of ``exercise``'s check file, its inputs drawn from ``random.Random(seed)``."""
    return load_check_module(exercise.checks).plan(random.Random(seed))


def release_order(keys: list, rng: random.Random, values: list | None = None) -> tuple:
    """A release order for :class:`Order`: a random order of ``keys`` whose results can
    never pass for the input order. ``values`` are the results the keys stand for (by
    default the keys themselves: repeated values must not hide a reordering).

    The first result to arrive is not the first one expected, the second key comes
    before the first (a pool's first pair comes back swapped: a pool of two workers
    shows ``imap_unordered``; a parent that reads one result and then joins the first
    process blocks), and neither the arrival order nor (from three keys on) its reverse
    gives the expected values (no fixed rearrangement of the arrival order passes by luck).
    """
    keys = list(keys)
    values = keys if values is None else list(values)
    if len(keys) < 2 or len(set(values)) < 2:
        return tuple(keys)
    by_key = dict(zip(keys, values))
    while True:
        order = keys[:]
        rng.shuffle(order)
        arriving = [by_key[key] for key in order]
        if (order.index(keys[1]) < order.index(keys[0]) and arriving[0] != values[0] and arriving != values
                and (len(keys) < 3 or arriving[::-1] != values)):
            return tuple(order)


class CheckFailed(Exception):
    """A check did not pass; ``str()`` is the student-facing message, ``causes`` the
    catalogue keys it was made from, most telling first (by default, the message's own
    when it is a :class:`Said`). The message has no empty line: a line of its catalogue
    text that nothing filled in (the cause under "Got:" when none is known) is left out,
    so no format ever shows an empty "Why:"."""

    def __init__(self, message: str, status: Status = Status.FAILED, output: str = "",
                 causes: tuple[str, ...] | None = None) -> None:
        super().__init__("\n".join(line for line in message.split("\n") if line.strip()))
        self.status = status
        self.output = output
        self.causes = causes_of(message) if causes is None else causes


@dataclass
class Run:
    """The outcome of a plan under one start method, with helpers that fail clearly."""

    exercise: Exercise
    start_method: str
    session: SessionResult
    language: str
    # the calls the current check looked at, in order; the call its failure is about last
    read: list[str] = field(default_factory=list)
    timeout: Timeout | None = None  # the calls' timeout, and the reference's times it came from
    budget: FeedbackBudget = field(default_factory=FeedbackBudget)  # the current check's, for its feedback

    def explain(self, function: Callable[..., T], *args: Any, plain: T, **kwargs: Any) -> T:
        """``function(*args, **kwargs)``, an explanation read from the session's records,
        within the current check's feedback budget; ``plain`` (what the failure says
        without it) when the budget runs out first (:mod:`grader.budget`)."""
        return self.budget.explain(function, *args, plain=plain, **kwargs)

    def t(self, key: str, **params: object) -> Said:
        """The catalogue's text ``key`` in the student's language; it remembers ``key``
        (and the keys of the texts in ``params``) as its causes."""
        return Said.of(text(key, self.language, **params), key, params)

    def fail(self, key: str, outcome: CallOutcome | None = None, **params: object) -> NoReturn:
        """Fail the check with the catalogue entry ``key`` (it raises: a failure cannot
        be built and then forgotten). A parameter made with :meth:`t` (``why=run.t(...)``)
        names the cause, and selects the hints tied to it. The failure is about ``outcome``'s
        call: its timeline and line are the ones shown with it."""
        output = ""
        if outcome is not None:
            if outcome.call.name in self.read:
                self.read.remove(outcome.call.name)
            self.read.append(outcome.call.name)
            output = _output(outcome)
            params.setdefault("call", describe_call(outcome))
        raise CheckFailed(self.t(key, **params), output=output)

    def reject_broken_session(self) -> None:
        """Fail every check of a session whose records were forged or corrupted, whose
        processes the kernel killed for using more memory than the session may, that
        wrote more than its disk budget, that sent more records than a session keeps, or
        that left processes running after its module had finished."""
        if self.session.tampering:
            raise CheckFailed(self.t("call.tampered", reason="; ".join(self.session.tampering)[:500]))
        if self.session.unobserved and not isolation().ptrace_reason:  # it works here: never go on blind
            raise CheckFailed(self.t("grader.unobserved", reason=self.session.unobserved[:300]), Status.ERROR)
        if self.session.oom_kills:
            raise CheckFailed(self.t("call.session_memory", count=self.session.oom_kills,
                                     limit=diagnose.megabytes(SESSION_MEMORY)))
        if self.session.disk_full:
            raise CheckFailed(self.t("call.disk_full", limit=diagnose.megabytes(DISK_BYTES),
                                     files=f"{DISK_FILES:,}"))
        if self.session.flooded:
            raise CheckFailed(self.t("call.flooded"))
        if self.session.left_at_exit:
            raise CheckFailed(self.t("call.left_at_exit", count=len(self.session.left_at_exit), processes=", ".join(
                f"process {leak.get('pid')} ({str(leak.get('cmdline') or leak.get('name') or '?')[:60]})"
                for leak in self.session.left_at_exit[:5])))

    def kernel(self, outcome: CallOutcome) -> Observed:
        """What the kernel showed of the call (:class:`~grader.sandbox.trace.Observed`):
        the only facts besides values a check may pass on. Where they were not observed
        the check errors: it cannot pass on the records the submission's processes wrote."""
        kernel = outcome.trace.kernel
        if not kernel.observed:
            raise CheckFailed(self.t("grader.unobserved", reason=(self.session.unobserved or "ptrace")[:300]),
                              Status.ERROR)
        return kernel

    def weighed_calls(self, outcome: CallOutcome, processes: list[SeenProcess]) -> float:
        """How many weighed calls' worth of CPU time (:attr:`Plan.weighed`) the kernel
        charged to ``processes`` during the call, in ballasts."""
        return self.kernel(outcome).weighed_s(processes) / ballast_cpu_s()

    def worked(self, outcome: CallOutcome, processes: list[SeenProcess], calls: int = 1) -> bool:
        """Whether ``processes`` ran at least ``calls`` weighed calls, as the kernel's CPU
        accounting shows (a record saying so counts for nothing)."""
        return self.weighed_calls(outcome, processes) >= WEIGHED_SHARE * calls

    def processes_that_worked(self, outcome: CallOutcome) -> list[SeenProcess]:
        """The processes created during the call that the kernel saw run at least one
        weighed call, oldest first."""
        return [process for process in self.kernel(outcome).created() if self.worked(outcome, [process])]

    def caller_worked(self, outcome: CallOutcome) -> bool:
        """Whether the kernel saw the caller's own process run a weighed call."""
        caller = self.kernel(outcome).caller()
        return caller is not None and self.worked(outcome, [caller])

    def at_once(self, outcome: CallOutcome, processes: list[SeenProcess]) -> int:
        """The largest number of ``processes`` the kernel saw in a weighed call at the same
        moment, each using at least the CPU time of a weighed call in it."""
        return self.kernel(outcome).most_at_once(processes, WEIGHED_SHARE * ballast_cpu_s())

    def outcome(self, name: str) -> CallOutcome:
        if name not in self.read:
            self.read.append(name)
        return self.session[name]

    def timeline(self) -> dict | None:
        """The process timeline (:mod:`grader.timeline`, JSON form) of the call the current
        check's failure is about (the last in :attr:`read`); None when that call involved
        no other process (never another call's timeline), or when the check's feedback
        budget ran out first."""
        return self.explain(self._timeline, plain=None)

    def _timeline(self) -> dict | None:
        if not self.read:
            return None
        outcome = self.session[self.read[-1]]
        end = outcome.t_end  # a call that never ended: until it was stopped
        if end is None and outcome.t0 and outcome.duration_s:
            end = outcome.t0 + outcome.duration_s
        drawn = timeline(outcome.trace, outcome.t0, end)
        return None if drawn is None else {"call": describe_call(outcome), **drawn.to_json()}

    def failure_line(self) -> int | None:
        """The line of the graded file that the current check's failure points at: where
        the calls it looked at raised or hung (:func:`grader.diagnose.failure_line`), else
        the ``def`` of the function the last of them called; None when neither is known
        (or when the check's feedback budget ran out first)."""
        return self.explain(self._failure_line, plain=None)

    def _failure_line(self) -> int | None:
        try:  # the traceback and stacks come from the sandbox: a line outside the file is not believed
            length = self.session.spec.submission.read_bytes().count(b"\n") + 1
        except OSError:
            length = 0
        for name in reversed(self.read):
            line = diagnose.failure_line(self.session[name], self.exercise.module)
            if line is not None and 1 <= line <= length:
                return line
        for name in reversed(self.read):
            call = self.session[name].call
            if call.kind == "function":
                return definition_line(self.session.spec.submission, call.function)
        return None

    def output_read(self) -> str:
        """What the submission printed during the calls the current check looked at
        (each excerpt headed by its call when there are several)."""
        parts = [(describe_call(self.session[name]), _output(self.session[name])) for name in self.read]
        parts = [(call, output) for call, output in parts if output.strip()]
        if len(parts) == 1:
            return parts[0][1]
        return "\n".join(f"[{call}]\n{output}" for call, output in parts)

    def finished(self, name: str, leftovers: bool = True) -> CallOutcome:
        """The call's outcome, which must have finished (returned, raised or exited),
        with every pool it created cleaned up, no shared memory segment and no process
        left behind; otherwise the check fails with a diagnosis. ``leftovers=False``:
        what the call left behind does not fail this check (a check of values, when
        another check of the exercise is about what calls leave behind)."""
        outcome = self.outcome(name)
        problem = diagnose.started_while_importing(outcome, self)
        if problem is None:
            plain = diagnose.unfinished(outcome, self, plainly=True)  # None just when the full one is
            if plain is not None:
                problem = self.explain(diagnose.unfinished, outcome, self, plain=plain)
        if problem is not None:
            raise problem
        if self.session.incomplete:
            self.fail("call.trace_incomplete", outcome, count=len(self.session.incomplete),
                      limit=diagnose.megabytes(self.session.spec.limits.output_bytes))
        if not leftovers:
            return outcome
        left = [pool for pool in outcome.trace.pools() if not outcome.trace.pool_cleaned_up(pool)]
        # A call that raised, or a script that failed, skipped the close() and join() after
        # the error: the error is the news (said below, or by the check), not the pool.
        failed = outcome.status == "raised" or outcome.status == "exited" and outcome.exit_code != 0
        if left and not failed:
            # Checked before leftover processes: whether an abandoned pool's workers are
            # still alive at this moment depends on garbage collection; this does not.
            closed = all(outcome.trace.of("pool_close", pool=pool["pool"]) for pool in left)
            self.fail("pool.closed_not_joined" if closed else "pool.not_cleaned_up", outcome)
        segments = outcome.trace.shared_memory_left()
        if segments:
            self.fail("call.shm_leaked", outcome, count=len(segments), names=", ".join(segments[:5]))
        if outcome.leaks:
            message = self.explain(diagnose.leaks, outcome, self, plain=diagnose.leaks(outcome, self, plainly=True))
            if outcome.status == "raised":  # the exception is the news; the leftovers follow from it
                raised = self._did_not_return(outcome)
                raise CheckFailed(raised + "\n" + message, output=_output(outcome),
                                  causes=causes_of(raised, message))
            raise CheckFailed(message, output=_output(outcome))
        return outcome

    def returned(self, name: str, leftovers: bool = True) -> CallOutcome:
        """The call's outcome, which must have returned normally (``leftovers``: as
        :meth:`finished` says)."""
        outcome = self.finished(name, leftovers)
        if outcome.status != "returned":
            raise CheckFailed(self._did_not_return(outcome), output=_output(outcome))
        return outcome

    def _did_not_return(self, outcome: CallOutcome) -> str:
        return self.explain(diagnose.did_not_return, outcome, self,
                            plain=diagnose.did_not_return(outcome, self, plainly=True))

    def expect_forced_order(self, outcome: CallOutcome, processes: bool = False) -> None:
        """The ordering harness (:class:`Order`) imposed its order in this call: every
        position of the release order was held and none gave up. With ``processes``
        (each call of the weighed function in a process of its own, held before it runs),
        the kernel must also have seen each position's weighed call begin only after the
        previous position's ended: the harness makes it so by causality, whatever the
        load (a position is released once the one before it is done, which comes after
        its call). A harness that cannot be shown to have taken effect fails the check:
        silence is not a pass."""
        spec = self.session.spec.order
        if spec is None:
            return
        for event in outcome.trace.of("ordered"):
            if event["gave_up"]:
                self.fail("harness.order_gave_up", outcome, function=spec.function, position=event["position"] + 1,
                          window=diagnose.seconds(spec.window_s))
        keys = spec.calls.get(outcome.call.name, ())
        held = {event["position"]: event["pid"] for event in outcome.trace.of("ordered")}
        if len(keys) >= 2 and sorted(held) != list(range(len(keys))):
            self.fail("harness.order_not_shown", outcome, function=spec.function, held=len(held), total=len(keys))
        if processes and len(keys) >= 2:
            kernel = self.kernel(outcome)
            spans = [kernel.spans(kernel.processes[pid]) if pid in kernel.processes else []
                     for _, pid in sorted(held.items())]
            if len(set(held.values())) != len(keys) or not all(spans) or any(
                    min(span.t0 for span in later) < max(span.t for span in earlier)
                    for earlier, later in zip(spans, spans[1:])):
                self.fail("harness.order_not_shown", outcome, function=spec.function, held=len(held), total=len(keys))

    def expect_aligned(self, outcome: CallOutcome, processes: list[SeenProcess] | None = None) -> None:
        """The rendezvous (:class:`Align`) brought its parties together in this call: no
        party gave up, and the kernel saw ``processes`` (at least ``parties`` of them)
        in their weighed calls at the same time, each using the CPU there (:meth:`at_once`;
        by default the processes created during the call). Otherwise the check fails:
        a race that cannot be shown to have been run proves nothing."""
        spec = self.session.spec.align
        if spec is None:
            return
        aligned = outcome.trace.of("aligned")
        short = [e for e in aligned if e["arrivals"] < spec.parties]
        if short:
            self.fail("harness.align_gave_up", outcome, function=spec.function, parties=spec.parties,
                      arrivals=min(e["arrivals"] for e in short), timeout=diagnose.seconds(spec.timeout_s))
        if processes is None:
            processes = self.kernel(outcome).created()
        if len(aligned) < spec.parties or self.at_once(outcome, processes) < spec.parties:
            self.fail("harness.align_not_shown", outcome, function=spec.function, parties=spec.parties)

    def cause(self, outcome: CallOutcome) -> str:
        """The likely cause of an error seen in the call's traceback or error output
        ('' when none is known, or the check's feedback budget ran out first)."""
        return self.explain(diagnose.cause_of, outcome.traceback + "\n" + outcome.stderr, outcome, self, plain="")

    def expect_value(self, outcome: CallOutcome, expected: object, *, call: str | None = None,
                     cause: Callable[[], str] | None = None) -> None:
        """The returned value must equal ``expected`` (compared in its JSON form). The
        value the submission returned is shown and compared within the check's feedback
        budget; past it, by its type alone and without the difference. ``cause``, asked
        only for a wrong value (within the budget too), is what the check knows of why it
        is wrong ('' when nothing): said instead of the difference."""
        wanted = encode(expected)
        if outcome.value != wanted:
            got = self.explain(show, outcome.value, plain=f"<{outcome.type_name or '?'}>")
            why = self.explain(cause, plain="") if cause is not None else ""
            self.fail("value.wrong", outcome, call=call or describe_call(outcome), expected=show(wanted), got=got,
                      difference=why or self.explain(diagnose.difference, wanted, outcome.value, self, plain=""))


def definition_line(path: Path, function: str) -> int | None:
    """The line of the top-level ``def function`` in the file at ``path`` (parsed, never
    imported: it is a submission); None when there is none or the file cannot be read."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    return next((node.lineno for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function), None)


def describe_call(outcome: CallOutcome) -> str:
    """``collect([3, 1])``, each argument in at most 60 characters, abbreviated by its
    structure (:func:`grader.diagnose.show`: ``multicore([241, 733, ..., 3])``, never
    cut inside a string or a number)."""
    call = outcome.call
    if call.kind == "script":
        return f"python {call.function}"
    if call.kind == "import":
        return "import"
    arguments = ", ".join(show(arg, 60) for arg in call.args)
    return f"{call.function}({arguments})"


def _output(outcome: CallOutcome) -> str:
    parts = []
    if outcome.stdout.strip():
        parts.append(outcome.stdout)
    if outcome.stderr.strip():
        parts.append(outcome.stderr)
    return "\n".join(parts)
