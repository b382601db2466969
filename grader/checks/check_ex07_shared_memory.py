"""Checks for exercise-7 (shared-memory): ``add_in_child`` with a Value, ``squares``
with an Array written by ``workers`` child processes.

Which processes wrote is the kernel's fact: the pages of the caller's shared memory each
child had in its page tables when it exited (``Plan.shared_pages``; a forked child starts with
none, and a child that never reads or writes the Value or Array maps none). The
runtime's counts of writes (``array[i] = ...``, ``v.value = ...``) only explain a failure:
they miss writes through ``get_obj()`` or a ``Value`` without a lock. ``n`` never divides evenly by ``workers`` (chunks of
``n // workers`` drop the remainder), and a second call has fewer slots than workers.
A result whose only wrong items are its last ones, left at 0 (never written), is
explained as such (:func:`unwritten_tail`): the remainder of ``n // workers`` chunks
when there are ``n % workers`` of them. A wrong value is explained first by a child that
died of an error (:func:`grader.diagnose.children_died`); ``add_in_child``'s, then, by a
``start`` that came back unchanged from a caller the kernel saw with no shared memory
at all (the number was in an ordinary variable, a global: each process has its own
copy), or by a whole number (a C int, type code ``'i'``).

How many processes write is checked on the first call only (``n`` at least
``200 * workers``, so every worker has slots to write); with fewer slots than workers,
a worker whose share is empty writes nothing, and only the values are checked.
"""

from __future__ import annotations

import random

from grader.check import Call, CallOutcome, Plan, Run
from grader.diagnose import children_died


def plan(rng: random.Random) -> Plan:
    start = rng.randint(-1_000, 1_000) + rng.choice((0.25, 0.5, 0.75, 0.125))
    # The sum has a fractional part too (x.125 + y.875 would not): a Value('i') that
    # truncates with int() could otherwise come out right (-337.875 + 478.875).
    delta = rng.randint(1, 500) + rng.choice([f for f in (0.375, 0.625, 0.875) if not (start + f).is_integer()])
    workers = rng.randint(2, 4)
    n = rng.randint(200 * workers, 2_000)
    n += 0 if n % workers else rng.randint(1, workers - 1)  # never divides evenly: no slot may be dropped
    few_workers = rng.randint(3, 4)
    # Fewer slots than workers, at least 2: squares(1, w) is [0], what an Array nobody
    # wrote holds, so it would pass whatever the workers did.
    return Plan([Call("value", "add_in_child", (start, delta)),
                 Call("squares", "squares", (n, workers)),
                 Call("few", "squares", (rng.randint(2, few_workers - 1), few_workers))], shared_pages=True)


def test_value_holds_floats(run: Run) -> None:
    outcome = run.returned("value")
    start, delta = outcome.call.args
    run.expect_value(outcome, start + delta, cause=lambda: _why_value_wrong(run, outcome))


def _why_value_wrong(run: Run, outcome: CallOutcome) -> str:
    """Why ``add_in_child`` returned a wrong value, when it can be told: its child died;
    ``start`` came back unchanged and the kernel saw no shared memory in the caller (the
    number was in memory of the caller's own); the value is a whole number (a C int).
    '' otherwise."""
    start, _ = outcome.call.args
    kernel = outcome.trace.kernel
    if died := children_died(outcome, run):
        return died
    if outcome.value == start and kernel.observed and not kernel.caller_shared:
        return run.t("ex07.why.not_shared")
    if isinstance(outcome.value, (int, float)) and not isinstance(outcome.value, bool) and \
            float(outcome.value).is_integer():
        return run.t("diff.truncated")
    return ""


def test_value_changed_in_a_child(run: Run) -> None:
    outcome = run.returned("value")
    started = outcome.trace.started()  # the records explain a failure; the kernel's facts make a pass
    if len(started) != 1:
        run.fail("ex07.one_child", outcome, got=len(started))
    kernel = run.kernel(outcome)
    children = kernel.created()
    if len(children) != 1:
        run.fail("ex07.one_child", outcome, got=len(children))
    writes = outcome.trace.value_writes()
    main = outcome.trace.main_pid
    if writes.get(main):
        run.fail("ex07.value_not_in_child", outcome, in_caller=writes.get(main, 0),
                 in_child=writes.get(started[0]["child"], 0))
    if not kernel.pages_of_callers(children[0]):
        if not kernel.caller_shared:
            run.fail("ex07.value_not_shared", outcome)
        run.fail("ex07.value_untouched_by_child", outcome,
                 why=run.explain(children_died, outcome, run, plain="") or run.t("ex07.why.pass_value"))


def test_squares_values(run: Run) -> None:
    for name in ("squares", "few"):
        outcome = run.returned(name)
        n, _ = outcome.call.args
        run.expect_value(outcome, [i * i for i in range(n)], cause=lambda: _why_squares_wrong(run, outcome))


def _why_squares_wrong(run: Run, outcome: CallOutcome) -> str:
    """Why ``squares`` returned wrong items, when it can be told: a child died; its last
    items were never written (the remainder of ``n // workers`` chunks, or some other
    tail). '' otherwise."""
    n, workers = outcome.call.args
    if died := children_died(outcome, run):
        return died
    count = unwritten_tail([i * i for i in range(n)], outcome.value)
    if not count:
        return ""
    first, size = n - count, n // workers
    if count == n % workers:
        return run.t("ex07.remainder_dropped", count=count, first=first, n=n, workers=workers, size=size,
                     covered=size * workers)
    return run.t("ex07.tail_unwritten", count=count, first=first)


def unwritten_tail(expected: list[int], got: object) -> int:
    """How many of the last items of ``got`` were never written (left at 0, the value a
    new Array starts with) when they are its only wrong items; 0 otherwise."""
    if not isinstance(got, list) or len(got) != len(expected) or got == expected:
        return 0
    first = len(got)
    while first > 0 and got[first - 1] == 0:
        first -= 1
    return len(got) - first if got[:first] == expected[:first] else 0


def test_squares_written_by_workers(run: Run) -> None:
    outcome = run.returned("squares")
    _, workers = outcome.call.args
    writes = outcome.trace.array_writes()
    main = outcome.trace.main_pid
    if writes.get(main):
        run.fail("ex07.written_in_caller", outcome, count=writes[main])
    kernel = run.kernel(outcome)
    writers = [child for child in kernel.created() if kernel.pages_of_callers(child)]
    if len(writers) != workers:
        run.fail("ex07.writer_count", outcome, expected=workers, got=len(writers))
