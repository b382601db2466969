"""Checks for exercise-2 (main-guard): the script, and importing it.

Importing runs first: it must print nothing and start no process. Then the module is
run as ``python ex02_main_guard.py`` under each start method. Every item of every pool
task is weighed (``Plan.weigh_tasks``): that the squares were computed by the pool's
workers is the kernel's fact, not the runtime's record.
"""

from __future__ import annotations

import random

from grader.check import Call, Plan, Run

EXPECTED_LINE = str([x * x for x in range(10)])


def plan(rng: random.Random) -> Plan:
    return Plan([
        Call("import", kind="import"),
        Call("square", "square", (rng.randint(11, 10_000),)),
        Call("script", "ex02_main_guard.py", kind="script"),
    ], weigh_tasks=True)


def test_import_starts_nothing(run: Run) -> None:
    outcome = run.finished("import")
    if outcome.status != "returned":
        run.fail("ex02.import_failed", outcome)
    started = outcome.trace.started(include_pool_workers=True)
    created = run.kernel(outcome).created()
    if started or outcome.trace.pools() or created:
        run.fail("ex02.import_started", outcome, count=max(len(started), len(created)))
    if outcome.stdout.strip():
        run.fail("ex02.import_printed", outcome)


def test_square_is_top_level(run: Run) -> None:
    outcome = run.returned("square")
    x = outcome.call.args[0]
    run.expect_value(outcome, x * x)


def test_script_prints_squares(run: Run) -> None:
    outcome = run.finished("script")
    if outcome.exit_code != 0:
        run.fail("ex02.script_exit", outcome, code=outcome.exit_code,
                       cause=run.cause(outcome))
    lines = [line.strip() for line in outcome.stdout.splitlines()]
    if EXPECTED_LINE not in lines:
        run.fail("ex02.script_output", outcome, expected=EXPECTED_LINE,
                 got=outcome.stdout.strip()[:300] or "(nothing)")
    squared = sum(task["items"] for task in outcome.trace.tasks() if task["func"].endswith(".square"))
    # The records explain a failure; a pass needs the kernel's facts: processes the
    # script's process started spent ten pool task items' ballast of CPU time.
    kernel = run.kernel(outcome)
    workers = [process for process in kernel.created() if process.ppid != kernel.main_pid]
    if not outcome.trace.pools() or squared < 10 or not run.worked(outcome, workers, 10):
        run.fail("ex02.script_no_pool", outcome, items=squared)

