"""Checks for exercise-9 (drain): ``gather(sizes)`` with payloads far larger than a pipe.

A child that puts ~1 MB on a Queue cannot exit until someone reads it (the pipe holds
64 KiB), so joining before reading hangs; the hang is reported with the stacks of the
blocked processes.

The children's ``produce`` calls are released in an order the check draws, the second
index before the first (:func:`~grader.check.release_order`): results returned in
arrival order fail every run, and so does a ``gather`` that reads one result and then
joins the process at the same position (the first process cannot exit while it still
holds its payload: a hang, every run). The small sizes always include 0.
"""

from __future__ import annotations

import functools
import random
from typing import NoReturn

from grader import diagnose
from grader.check import Call, CallOutcome, Order, Plan, Run, SeenProcess, encode, release_order


def plan(rng: random.Random) -> Plan:
    small = [rng.randint(1, 50) for _ in range(rng.randint(2, 3))]
    small.insert(rng.randrange(len(small) + 1), 0)
    large = [1_000_000 + rng.randint(0, 10_000) for _ in range(2)]
    order = Order("produce", key_arg=1, calls={"large": release_order([0, 1], rng),  # payloads differ by index
                                               "small": release_order(list(range(len(small))), rng)})
    # The large payloads first: when they hang, the student hears of it a call sooner.
    return Plan([Call("large", "gather", (large,)), Call("small", "gather", (small,))],
                traced=("produce",), weighed=("produce",), order=order)


@functools.cache
def _expected(sizes: tuple[int, ...]) -> object:
    """The expected value in its JSON form: encoding two million items once, not once
    per start method and check."""
    return encode([[index] * size for index, size in enumerate(sizes)])


def test_small_payloads(run: Run) -> None:
    outcome = run.returned("small")
    run.expect_value(outcome, _expected(tuple(outcome.call.args[0])))
    run.expect_forced_order(outcome, processes=True)


def test_large_payloads(run: Run) -> None:
    outcome = run.returned("large")
    run.expect_value(outcome, _expected(tuple(outcome.call.args[0])))
    run.expect_forced_order(outcome, processes=True)


def test_one_process_per_size(run: Run) -> None:
    """One process per size, each running produce() (not the caller)."""
    for name in ("small", "large"):
        outcome = run.returned(name)
        sizes = outcome.call.args[0]
        producers = {c["pid"] for c in outcome.trace.calls("produce")} - {outcome.trace.main_pid}
        children = run.kernel(outcome).created()  # the records explain a failure; these facts make a pass
        worked = run.processes_that_worked(outcome)
        if (len(outcome.trace.started()) != len(sizes) or len(producers) != len(sizes) or len(children) != len(sizes)
                or len(worked) != len(sizes) or run.caller_worked(outcome)):
            _fail_process_count(run, outcome, len(sizes), children, worked)


def _fail_process_count(run: Run, outcome: CallOutcome, expected: int, children: list[SeenProcess],
                        worked: list[SeenProcess]) -> NoReturn:
    """Fail ``test_one_process_per_size`` saying what differed from ``expected`` child
    processes each running produce(), and nothing else: the caller ran produce(), a
    Manager's server process was created besides, other processes did not run produce(),
    the counts differ, or (the kernel's counts right) the processes were not started
    with Process.start() or did not call produce() as given."""
    main = outcome.trace.main_pid
    calls = outcome.trace.calls("produce")
    if run.caller_worked(outcome) or any(call["pid"] == main for call in calls):
        run.fail("ex09.produce_in_caller", outcome, expected=expected, worked=len(worked))
    idle = [process.pid for process in children if process not in worked]
    servers = diagnose.manager_servers(outcome)
    if idle and set(idle) <= servers:
        run.fail("ex09.manager_server", outcome, expected=expected, created=len(children), worked=len(worked),
                 servers=len(idle))
    if idle:
        run.fail("ex09.idle_processes", outcome, expected=expected, created=len(children), worked=len(worked),
                 idle=len(idle), names=diagnose.names_of(idle, outcome, run))
    if len(children) != expected or len(worked) != expected:
        run.fail("ex09.process_count", outcome, expected=expected, created=len(children), worked=len(worked))
    run.fail("ex09.untraced", outcome, expected=expected, worked=len(worked), started=len(outcome.trace.started()),
             producers=len({call["pid"] for call in calls} - {main}))
