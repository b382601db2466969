"""Checks for exercise-1 (process): ``run_in_process`` and ``run_in_thread``.

The targets are probes (``grade_probe``): each spends a ballast of CPU time between two
marks the supervisor's tracer sees, so the kernel's accounting shows which process and
thread ran it and when; the process that ran it, its exit code and its end are the
kernel's facts too. What passes rests on those and on the returned values; the probes'
own records (pid, thread, time, under a fresh random token per call) only explain a
failure.
"""

from __future__ import annotations

import random
from typing import NoReturn

from grader.check import Call, CallOutcome, Plan, Ref, Run, SeenProcess, Span
from grader.diagnose import calls_method, method_not_called

PROBE_SLEEP_S = 0.15


def plan(rng: random.Random) -> Plan:
    def token() -> str:
        return f"t{rng.randrange(10**9)}"

    exit_code = rng.randint(2, 9)
    return Plan([
        Call("process", "run_in_process", (Ref("grade_probe.record"), [token(), PROBE_SLEEP_S])),
        Call("process_exit", "run_in_process", (Ref("grade_probe.exit_with"), [token(), exit_code])),
        Call("process_raise", "run_in_process", (Ref("grade_probe.fail"), [token()])),
        Call("thread", "run_in_thread", (Ref("grade_probe.record"), [token(), PROBE_SLEEP_S])),
    ])


def _probe_runs(run: Run, name: str) -> tuple[CallOutcome, list[dict]]:
    """The call's outcome, which returned, and the probe's records (which must say it ran once)."""
    outcome = run.returned(name)
    token = outcome.call.args[1][0]
    runs = outcome.trace.probes(token)
    if len(runs) > 1:
        run.fail("ex01.ran_times", outcome, function=outcome.call.function, times=len(runs))
    return outcome, runs


def _run_called_in_caller(outcome: CallOutcome) -> bool:
    """Whether a Process's ``run()`` ran in the caller's own process during the call (the
    runtime's ``run`` record, stamped with its sender's pid): ``p.run()`` called where
    ``p.start()`` was meant, which runs the target right there and starts no process."""
    return any(event["pid"] == outcome.trace.main_pid for event in outcome.trace.of("run"))


def _fail_if_join_not_called(run: Run, outcome: CallOutcome) -> None:
    """Fail a call that returned before its target had finished, when its function names
    the join method without calling it (``t.join``): nothing waited."""
    function = outcome.call.function
    uncalled = run.explain(method_not_called, run, function, "join", plain="")
    if uncalled:
        run.fail("ex01.join_not_called", outcome, function=function, expression=uncalled)


def _returned_early(run: Run, outcome: CallOutcome) -> NoReturn:
    """Fail a call that returned while its target was still running."""
    _fail_if_join_not_called(run, outcome)
    run.fail("ex01.returned_early", outcome, function=outcome.call.function)


def _child_that_ran(run: Run, name: str) -> tuple[CallOutcome, SeenProcess]:
    """The call's outcome and the one child process the kernel saw run the target."""
    # Before what the target then did to the caller (its sys.exit ended it, its raise came out of run()).
    if _run_called_in_caller(run.outcome(name)):
        run.fail("ex01.run_called", run.outcome(name))
    outcome, runs = _probe_runs(run, name)
    if any(probe["pid"] == outcome.trace.main_pid for probe in runs) or run.caller_worked(outcome):
        run.fail("ex01.process_in_caller", outcome)
    ran = run.processes_that_worked(outcome)
    if not ran:  # a child not waited for may not have been seen to finish its target before it was stopped
        _fail_if_join_not_called(run, outcome)
    if len(ran) != 1:
        run.fail("ex01.ran_times", outcome, function=outcome.call.function, times=len(ran))
    if not run.kernel(outcome).ended_in_call(ran[0]):
        _returned_early(run, outcome)
    return outcome, ran[0]


def test_process_runs_target_in_a_child(run: Run) -> None:
    _child_that_ran(run, "process")


def test_process_returns_exit_code(run: Run) -> None:
    for name, expected in (("process_exit", run.outcome("process_exit").call.args[1][1]),
                           ("process_raise", 1)):
        outcome, child = _child_that_ran(run, name)
        target = "sys.exit(%d)" % expected if name == "process_exit" else "raise RuntimeError"
        if outcome.value != expected:
            run.fail("ex01.exit_code", outcome, expected=expected, got=repr(outcome.value), target=target)
        if child.exit != expected:  # the right number, but not the one the kernel saw the child exit with
            run.fail("ex01.exit_code_not_the_childs", outcome, got=repr(outcome.value), actual=child.exit)


def _spans_in_caller(run: Run, name: str) -> tuple[CallOutcome, list[Span]]:
    """The call's outcome and the weighed spans of the probe the kernel saw in the caller's process."""
    outcome, runs = _probe_runs(run, name)
    kernel = run.kernel(outcome)
    if any(probe["pid"] != outcome.trace.main_pid for probe in runs) or run.processes_that_worked(outcome):
        run.fail("ex01.thread_in_other_process", outcome)
    caller = kernel.caller()
    spans = kernel.spans(caller) if caller is not None else []
    if not run.worked(outcome, [caller] if caller is not None else []) or len(spans) != 1:
        run.fail("ex01.ran_times", outcome, function=outcome.call.function, times=len(spans))
    return outcome, spans


def test_thread_runs_target_in_caller_process(run: Run) -> None:
    outcome, spans = _spans_in_caller(run, "thread")
    threads = {thread.task for thread in run.kernel(outcome).threads_created()}
    if any(probe["main_thread"] for probe in outcome.trace.probes(outcome.call.args[1][0])) or any(
            span.task not in threads for span in spans):
        if run.explain(calls_method, run, "run_in_thread", "run", plain=False):  # t.run() where t.start() was meant
            run.fail("ex01.thread_run_called", outcome)
        run.fail("ex01.thread_in_main_thread", outcome)


def test_thread_waits_for_target(run: Run) -> None:
    outcome, spans = _spans_in_caller(run, "thread")
    end = run.kernel(outcome).t_end
    if end is None or any(span.t > end for span in spans):
        _returned_early(run, outcome)
