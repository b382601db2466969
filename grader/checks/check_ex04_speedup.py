"""Checks for exercise-4 (speedup): ``threaded`` and ``multicore`` against ``serial``.

``work`` is traced: where each call ran (pid, thread) and when. In ``multicore`` the
first two calls of ``work`` meet at a rendezvous before starting, so processes that run
at the same time overlap by construction and processes run one after the other never do,
whatever the start-up jitter of spawn. Timings are reported as information only, and
worded from what was measured on this machine: the time from the first call of ``work``
to the end of the last in each variant, measured in calls of their own that neither the
rendezvous nor the ordering harness touches (``threaded_timed``, ``multicore_timed``: the
harnesses' waits are the grader's, not the student's), where each variant ran ``work`` (threads or processes, as the trace
shows, whatever the function is called), how long the processes took to start, and the
number of CPU cores, so the lesson (threads do not speed up CPU-bound Python, processes
do once their start-up is paid for) is told as it happened here.

The calls of ``work`` in ``threaded`` and ``multicore`` return in an order the check
draws (the second task before the first, never the input order): results collected in
the order they come back (a Queue without indexes, ``imap_unordered``, a shared list
appended to) fail every run; ``Pool.map`` and index-keyed results pass.
Measured with ``python bench/flakiness.py exercise-4 --runs 25`` on 2 cores: the
starter (threads) failed the overlap check 25/25 under every start method, the
reference solution passed 25/25.
"""

from __future__ import annotations

import os
import random

from grader.check import Align, Call, CallOutcome, Order, Plan, Run, Said, release_order


def work_value(n: int) -> int:
    return (n - 1) * n * (2 * n - 1) // 6


def plan(rng: random.Random) -> Plan:
    tasks = rng.sample(range(300_000, 500_000), rng.randint(3, 4))  # distinct: they key the order
    while tasks in (sorted(tasks), sorted(tasks, reverse=True)):  # results sorted by value do not pass
        rng.shuffle(tasks)
    release = release_order(tasks, rng)
    return Plan(
        [Call("serial", "serial", (tasks,)), Call("threaded", "threaded", (tasks,)),
         Call("multicore", "multicore", (tasks,)),
         Call("threaded_timed", "threaded", (tasks,)), Call("multicore_timed", "multicore", (tasks,))],
        # 4 s for the second process to arrive: a pool worker that starts late on a loaded
        # machine still meets the first (a correct solution never waits that long).
        traced=("work",), weighed=("work",), align=Align("work", parties=2, timeout_s=4.0, calls=("multicore",)),
        order=Order("work", key_arg=0, hold="after", calls={"threaded": release, "multicore": release},
                    window_s=1.5, grace_s=0.1),
        timed=True)  # measured alone: no other sandbox of the run competes for the cores


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
    kernel = run.kernel(outcome)  # the records above explain a failure; these facts make a pass
    if run.processes_that_worked(outcome):
        run.fail("ex04.threads_in_other_process", outcome, count=len(elsewhere) or 1)
    caller = kernel.caller()
    threads = {thread.task for thread in kernel.threads_created()}
    spans = [span for span in kernel.spans(caller) if span.task in threads] if caller is not None else []
    in_threads = [c for c in calls if not c["main_thread"]]
    started = len(outcome.trace.of("thread_start"))
    ran = len({span.task for span in spans})  # threads the kernel saw run work()
    if (len(in_threads) != len(tasks) or started < len(tasks) or ran != len(tasks)
            or not run.worked(outcome, [caller], len(tasks))):
        got = (run.t("ex04.threads_got.count", got=ran) if ran != len(tasks)
               else run.t("ex04.threads_got.started", got=ran, started=started) if started < len(tasks)
               else run.t("ex04.threads_got.calls", got=ran, calls=len(in_threads)) if len(in_threads) != len(tasks)
               else run.t("ex04.threads_got.cpu", got=ran))
        run.fail("ex04.thread_per_task", outcome, expected=len(tasks), got=got)


def test_multicore_values(run: Run) -> None:
    outcome = run.returned("multicore")
    run.expect_value(outcome, [work_value(n) for n in outcome.call.args[0]])


def test_multicore_runs_in_overlapping_processes(run: Run, inform) -> None:
    outcome = run.returned("multicore")
    needed = min(len(outcome.call.args[0]), 2)
    mistake = _short_of_processes(run, outcome, needed)
    if mistake is not None:
        got, why = mistake
        run.fail("ex04.not_in_processes", outcome, needed=needed, got=got, why=why, timings=_timings(run))
    if outcome.trace.max_concurrent("work") < 2 or run.at_once(outcome, run.processes_that_worked(outcome)) < 2:
        run.fail("ex04.no_overlap", outcome, timings=_timings(run))
    inform(_timings(run))


def _short_of_processes(run: Run, outcome: CallOutcome, needed: int) -> tuple[Said, Said] | None:
    """How a ``multicore`` call fell short of running work() in at least ``needed`` child
    processes, all of it there and none in the caller, and why that matters: (got, why);
    None when it did not. The kernel's facts decide; the records (which process and thread
    called work()) only say which words fit."""
    calls = outcome.trace.calls("work")
    main = outcome.trace.main_pid
    worked = run.processes_that_worked(outcome)
    got = min(len({c["pid"] for c in calls} - {main}), len(worked))
    if not got:
        in_threads = any(not c["main_thread"] for c in calls)
        return (run.t("ex04.processes_got.count", got=got),
                run.t("ex04.why.threads" if in_threads else "ex04.why.in_caller"))
    if any(c["pid"] == main for c in calls) or run.caller_worked(outcome):
        return run.t("ex04.processes_got.caller", got=got), run.t("ex04.why.caller")
    if got < needed:
        return run.t("ex04.processes_got.count", got=got), run.t("ex04.why.one_process")
    if _caller_did_the_work(run, outcome):
        return run.t("ex04.processes_got.caller_cpu", got=got, spent=f"{run.kernel(outcome).caller_cpu_s:.2f}",
                     serial=f"{run.outcome('serial').trace.kernel.caller_cpu_s:.2f}"), run.t("ex04.why.caller")
    tasks = len(outcome.call.args[0])
    if not run.worked(outcome, worked, tasks):
        return run.t("ex04.processes_got.part", got=got, total=tasks), run.t("ex04.why.every_task", total=tasks)
    return None


# The share of serial()'s CPU time (the whole work, in the caller) that the caller of
# multicore() may spend itself: starting processes and pickling cost it a tenth to a third.
CALLER_SHARE = 0.8


def _caller_did_the_work(run: Run, outcome: CallOutcome) -> bool:
    """Whether the kernel charged the caller of ``outcome`` (a ``multicore`` call) about
    as much CPU time as ``serial`` cost it: the work ran there, whatever ran beside it
    (the traced ``work`` bypassed through ``__wrapped__``, say)."""
    serial = run.outcome("serial").trace.kernel.caller_cpu_s
    spent = run.kernel(outcome).caller_cpu_s
    return serial is not None and spent is not None and serial > 0 and spent >= CALLER_SHARE * serial


def cores() -> int:
    """The CPU cores this machine lets the grader (and its sandboxes) use."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _span(outcome) -> tuple[float, float, float] | None:
    """(first start, last end, total time) of the calls of work() in a call, or None."""
    calls = outcome.trace.calls("work")
    if not calls:
        return None
    return min(c["t0"] for c in calls), max(c["t"] for c in calls), sum(c["t"] - c["t0"] for c in calls)


def _how(run: Run, outcome) -> tuple[str, float | None]:
    """Where a call ran work() (threads or processes, as the trace shows), and for
    processes the time from the call's start to the first work() (starting them)."""
    calls = outcome.trace.calls("work")
    main = outcome.trace.main_pid
    children = {c["pid"] for c in calls} - {main}
    if children:
        startup = min(c["t0"] for c in calls) - outcome.t0 if outcome.t0 else None
        return run.t("ex04.how.processes", count=len(children),
                     startup=f"{startup:.2f}" if startup is not None else "?"), startup
    if any(not c["main_thread"] for c in calls):
        return run.t("ex04.how.threads"), None
    return run.t("ex04.how.caller"), None


# The calls timings are read from: none of them is held by a harness.
TIMED = {"serial": "serial", "threaded": "threaded_timed", "multicore": "multicore_timed"}
# A speed-up within this factor either way is "about as fast" (×1.0 faster says nothing).
SAME_SPEED = 1.1
# Times are shown to the hundredth of a second, and CPU times counted in clock ticks (a
# hundredth each): two times that differ by less than this say nothing about which was faster.
SLACK_S = 0.02


def _verdict(run: Run, serial: float, total: float, tasks: int) -> str:
    """How multicore()'s total time compares with serial()'s, in words: ×N faster,
    about as fast (a ratio within ``SAME_SPEED`` either way), or slower."""
    ratio = serial / max(total, 1e-6)
    times = {"total": f"{total:.2f}", "serial": f"{serial:.2f}"}
    if ratio >= SAME_SPEED:
        return run.t("ex04.verdict.faster", speedup=f"{ratio:.1f}", **times)
    if ratio > 1 / SAME_SPEED:
        return run.t("ex04.verdict.same", **times)
    return run.t("ex04.verdict.slower", task=f"{serial / max(tasks, 1):.2f}", **times)


def _clock(run: Run, outcomes: dict[str, CallOutcome], seconds: dict[str, float | None],
           one_process: tuple[str, ...]) -> Said | str:
    """'' unless one of the variants ``one_process`` (which ran work() in one process,
    under its GIL: never faster than serial() at CPU-bound work) took less time than
    serial() by the figures shown (``seconds``, as printed: by ``SAME_SPEED`` and by
    ``SLACK_S`` at least); then a clause saying so, and that it was only by the clock, with
    the CPU time the kernel charged each call: about the same (so serial() waited longer
    for a core), or not (the same work took a different time)."""
    serial = seconds["serial"]
    for name in one_process:
        time = seconds[name]
        if serial is None or not time or serial < SAME_SPEED * time or round(serial - time, 2) < SLACK_S:
            continue
        params = {"variant": f"{name}()", "time": f"{time:.2f}", "serial": f"{serial:.2f}"}
        serial_cpu, cpu = outcomes["serial"].trace.kernel.caller_cpu_s, outcomes[name].trace.kernel.caller_cpu_s
        if serial_cpu is None or cpu is None:
            return run.t("ex04.clock.varied", cpu="", **params)
        charged = {"variant_cpu": f"{cpu:.2f}", "serial_cpu": f"{serial_cpu:.2f}"}
        if round(abs(serial_cpu - cpu), 2) <= max(SLACK_S, (SAME_SPEED - 1) * max(serial_cpu, cpu)):
            return run.t("ex04.clock.waited", **charged, **params)
        return run.t("ex04.clock.varied", cpu=run.t("ex04.clock.cpu", **charged, **params), **params)
    return ""


def _timings(run: Run) -> str:
    """What was measured, and why it came out that way on this machine: the lesson's
    words are chosen from the figures it shows (a variant that ran in one process and yet
    took less time than serial() by the clock is said to have, and why)."""
    outcomes = {name: run.outcome(call) for name, call in TIMED.items()}
    spans = {name: _span(outcome) if outcome.status == "returned" else None for name, outcome in outcomes.items()}
    shown = {name: round(span[1] - span[0], 2) if span else None for name, span in spans.items()}
    seconds = {name: f"{value:.2f}" if value is not None else "?" for name, value in shown.items()}
    threaded_how, _ = _how(run, outcomes["threaded"])
    multicore_how, startup = _how(run, outcomes["multicore"])
    count = cores()
    one_process = ("threaded",) if startup is not None else ("threaded", "multicore")
    clock = _clock(run, outcomes, shown, one_process)
    if startup is None:
        lesson = run.t("ex04.lesson.no_processes", cores=count, clock=clock)
    elif outcomes["multicore"].trace.max_concurrent("work") < 2:
        lesson = run.t("ex04.lesson.one_after_another", cores=count, clock=clock)
    elif count < 2:
        lesson = run.t("ex04.lesson.one_core", clock=clock)
    else:
        serial = spans["serial"][1] - spans["serial"][0] if spans["serial"] else None
        tasks = len(outcomes["serial"].call.args[0])
        if serial is None or spans["multicore"] is None:
            verdict = "?"
        else:  # from the call's start (processes to start) to the end of the work
            verdict = _verdict(run, serial, spans["multicore"][1] - outcomes["multicore"].t0, tasks)
        lesson = run.t("ex04.lesson.processes", cores=count, startup=f"{startup:.2f}", verdict=verdict, clock=clock)
    return run.t("ex04.timings", cores=count,
                 serial=seconds["serial"], threads=seconds["threaded"], processes=seconds["multicore"],
                 threaded_how=threaded_how, multicore_how=multicore_how, lesson=lesson)
