"""Checks for exercise-5 (pool-map): ``multicore(values, processes)`` with a Pool.

In the call ``unordered`` (two values, two workers) the calls of ``job`` return in an
order the check draws (the second value before the first): results gathered in
completion order (``imap_unordered``, ``apply_async`` callbacks appending to a list)
fail every run.

The checks of values pass on the values: a pool left running fails
``test_pool_closed_and_joined``, not them (unless the values are wrong too).
"""

from __future__ import annotations

import random

from grader.check import Call, Order, Plan, Run, release_order


def plan(rng: random.Random) -> Plan:
    # Few values: students make pools of one worker per value (`Pool(processes or len(values))`
    # is correct; `Pool(len(values))` must be told its worker count, not time out), and under
    # spawn each worker is an interpreter started afresh. The timeout is fitted to the
    # reference's pools (a few workers): on a loaded 2-core machine, with the three start
    # methods' sandboxes at once, 20 to 40 workers took 2 to 7 s of the 7.4 s allowed, and a
    # busier moment timed them out (5 runs of 5 under --stress); 10 to 16 take 0.7 to 2.8 s.
    values = [rng.randint(-1_000, 1_000) for _ in range(rng.randint(10, 16))]
    if min(values) >= 0:  # negative values, always (the squares are then not the values' order)
        values[0] = -values[0] - 1
    others = [rng.randint(0, 100) for _ in range(rng.randint(4, 8))]
    # As many values as workers: every call of job arrives at once, none waits for one queued
    # behind it (which would cost the harness its whole window). Distinct squares too.
    distinct = rng.sample(range(1, 1_000), 2)
    return Plan([
        Call("three", "multicore", (values, 3)),
        Call("other_size", "multicore", (values[:10], rng.choice((1, 4, 5)))),
        Call("default", "multicore", (others,)),
        Call("unordered", "multicore", (distinct, 2)),
        Call("empty", "multicore", ([], 2)),
    ], traced=("job",), weighed=("job",), order=Order("job", key_arg=0, hold="after", calls={"unordered": release_order(distinct, rng)},
                                    window_s=1.0, grace_s=0.05))


def test_values(run: Run) -> None:
    outcomes = {name: run.returned(name, leftovers=False) for name in ("three", "other_size", "default", "unordered")}
    for name in ("unordered", "three", "other_size", "default"):  # the forced order first: the same failure every run
        run.expect_value(outcomes[name], [x * x for x in outcomes[name].call.args[0]])
    # The order of its own is imposed (and must be shown to be) when the two values ran in
    # two workers; in one worker (one chunk) they come back in order whatever the method.
    unordered = outcomes["unordered"]
    kernel = run.kernel(unordered)
    if sum(1 for worker in kernel.created() if kernel.spans(worker)) >= 2:
        run.expect_forced_order(unordered)


def test_empty_input(run: Run) -> None:
    run.expect_value(run.returned("empty", leftovers=False), [])


def test_work_runs_in_pool_workers(run: Run) -> None:
    for name in ("three", "default"):
        outcome = run.returned(name)
        calls = outcome.trace.calls("job")  # the records explain a failure; the kernel's facts make a pass
        in_caller = [c for c in calls if c["pid"] == outcome.trace.main_pid]
        expected = len(outcome.call.args[0])
        if (not outcome.trace.tasks() or in_caller or len(calls) != expected or run.caller_worked(outcome)
                or not run.worked(outcome, run.kernel(outcome).created(), calls=expected)):
            run.fail("ex05.not_in_workers", outcome, in_caller=len(in_caller), total=len(calls), expected=expected)


def test_processes_argument(run: Run) -> None:
    for name in ("three", "other_size"):
        outcome = run.returned(name)
        expected = outcome.call.args[1]
        workers = run.kernel(outcome).created()
        if len(workers) != expected or len(outcome.trace.pool_workers_started()) != expected:
            run.fail("ex05.worker_count", outcome, expected=expected, got=len(workers))


def test_pool_closed_and_joined(run: Run) -> None:
    """Every pool is closed and joined (or terminated by a `with` block) before returning."""
    for name in ("three", "default", "empty"):
        run.returned(name)
