"""Checks for exercise-1 (process): ``run_in_process`` and ``run_in_thread``.

The targets are probes (``grade_probe``) that record their pid, thread and run time;
each call gets a fresh random token so a hard-coded answer cannot pass.
"""

from __future__ import annotations

import random

from grader.check import Call, Plan, Ref, Run

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


def _probe_runs(run: Run, name: str) -> tuple[object, list[dict]]:
    outcome = run.returned(name)
    token = outcome.call.args[1][0]
    runs = outcome.trace.probes(token)
    if len(runs) != 1:
        run.fail("ex01.ran_times", outcome, function=outcome.call.function, times=len(runs))
    return outcome, runs


def test_process_runs_target_in_a_child(run: Run) -> None:
    outcome, (probe,) = _probe_runs(run, "process")
    if probe["pid"] == outcome.trace.main_pid:
        run.fail("ex01.process_in_caller", outcome)
    if outcome.t_end is None or probe["t"] > outcome.t_end:
        run.fail("ex01.returned_early", outcome, function="run_in_process")


def test_process_returns_exit_code(run: Run) -> None:
    for name, expected in (("process_exit", run.outcome("process_exit").call.args[1][1]),
                           ("process_raise", 1)):
        outcome, _ = _probe_runs(run, name)
        if outcome.value != expected:
            run.fail("ex01.exit_code", outcome, expected=expected, got=repr(outcome.value),
                           target="sys.exit(%d)" % expected if name == "process_exit" else "raise RuntimeError")


def test_thread_runs_target_in_caller_process(run: Run) -> None:
    outcome, (probe,) = _probe_runs(run, "thread")
    if probe["pid"] != outcome.trace.main_pid:
        run.fail("ex01.thread_in_other_process", outcome)
    if probe["main_thread"]:
        run.fail("ex01.thread_in_main_thread", outcome)


def test_thread_waits_for_target(run: Run) -> None:
    outcome, (probe,) = _probe_runs(run, "thread")
    if outcome.t_end is None or probe["t"] > outcome.t_end:
        run.fail("ex01.returned_early", outcome, function="run_in_thread")
