"""Checks for exercise-4 (speedup): ``threaded`` and ``multicore`` against ``serial``.

``work`` is traced: where each call ran (pid, thread) and when. In ``multicore`` the
first two calls of ``work`` meet at a rendezvous before starting, so processes that run
at the same time overlap by construction and processes run one after the other never do,
whatever the start-up jitter of spawn. Timings are reported as information only.

The calls of ``work`` in ``threaded`` and ``multicore`` return in an order the check
draws (the second task before the first, never the input order): results collected in
the order they come back (a Queue without indexes, ``imap_unordered``, a shared list
appended to) fail every run; ``Pool.map`` and index-keyed results pass.
Measured with ``python bench/flakiness.py exercise-4 --runs 25`` on 2 cores: the
starter (threads) failed the overlap check 25/25 under every start method, the
reference solution passed 25/25.
"""

from __future__ import annotations

import random

from grader.check import Align, Call, Order, Plan, Run, release_order


def work_value(n: int) -> int:
    return (n - 1) * n * (2 * n - 1) // 6


def plan(rng: random.Random) -> Plan:
    tasks = rng.sample(range(300_000, 500_000), rng.randint(3, 4))  # distinct: they key the order
    while tasks in (sorted(tasks), sorted(tasks, reverse=True)):  # results sorted by value do not pass
        rng.shuffle(tasks)
    release = release_order(tasks, rng)
    return Plan(
        [Call("serial", "serial", (tasks,)), Call("threaded", "threaded", (tasks,)),
         Call("multicore", "multicore", (tasks,))],
        traced=("work",), align=Align("work", parties=2, calls=("multicore",)),
        order=Order("work", key_arg=0, hold="after", calls={"threaded": release, "multicore": release},
                    window_s=1.5, grace_s=0.1),
        timeout_s=20.0)


def test_threaded_values(run: Run) -> None:
    outcome = run.returned("threaded")
    run.expect_value(outcome, [work_value(n) for n in outcome.call.args[0]])


def test_threaded_uses_threads_of_the_caller(run: Run) -> None:
    outcome = run.returned("threaded")
    tasks = outcome.call.args[0]
    calls = outcome.trace.calls("work")
    elsewhere = [c for c in calls if c["pid"] != outcome.trace.main_pid]
    if elsewhere:
        run.fail("ex04.threads_in_other_process", outcome, count=len(elsewhere))
    in_threads = [c for c in calls if not c["main_thread"]]
    if len(in_threads) != len(tasks) or len(outcome.trace.of("thread_start")) < len(tasks):
        run.fail("ex04.thread_per_task", outcome, expected=len(tasks), got=len(in_threads))


def test_multicore_values(run: Run) -> None:
    outcome = run.returned("multicore")
    run.expect_value(outcome, [work_value(n) for n in outcome.call.args[0]])


def test_multicore_runs_in_overlapping_processes(run: Run, inform) -> None:
    outcome = run.returned("multicore")
    tasks = outcome.call.args[0]
    calls = outcome.trace.calls("work")
    children = {c["pid"] for c in calls} - {outcome.trace.main_pid}
    if any(c["pid"] == outcome.trace.main_pid for c in calls) or len(children) < min(len(tasks), 2):
        run.fail("ex04.not_in_processes", outcome, needed=min(len(tasks), 2), got=len(children),
                       timings=_timings(run))
    overlapping = any(a["pid"] != b["pid"] and a["t0"] < b["t"] and b["t0"] < a["t"]
                      for a in calls for b in calls)
    if not overlapping:
        run.fail("ex04.no_overlap", outcome, timings=_timings(run))
    inform(_timings(run))


def _timings(run: Run) -> str:
    serial, threads, processes = (run.outcome(name).duration_s for name in ("serial", "threaded", "multicore"))
    return run.t("ex04.timings", serial=f"{serial:.2f}", threads=f"{threads:.2f}",
                 processes=f"{processes:.2f}", speedup=f"{serial / max(processes, 1e-6):.1f}")
