"""Checks for exercise-6 (apply-async): ``one(x)`` and ``many(values)``.

The checks of values pass on the values: a pool left running fails ``test_pool_closed``,
not them (unless the values are wrong too).
"""

from __future__ import annotations

import random

from grader.check import Call, Plan, Run
from grader.diagnose import calls_method


def plan(rng: random.Random) -> Plan:
    values = [rng.randint(-500, 500) for _ in range(rng.randint(8, 16))]
    return Plan([Call("one", "one", (rng.randint(-10_000, 10_000),)), Call("many", "many", (values,))],
                traced=("job",), weighed=("job",))


def test_one_value(run: Run) -> None:
    outcome = run.returned("one", leftovers=False)
    run.expect_value(outcome, outcome.call.args[0] ** 2)


def test_one_uses_apply_async(run: Run) -> None:
    outcome = run.returned("one")
    _expect_apply_async(run, outcome, 1)


def test_many_values(run: Run) -> None:
    outcome = run.returned("many", leftovers=False)
    run.expect_value(outcome, [x * x for x in outcome.call.args[0]])


def test_many_submits_all_before_first_get(run: Run) -> None:
    outcome = run.returned("many")
    _expect_apply_async(run, outcome, len(outcome.call.args[0]))
    submitted = outcome.trace.apply_async()
    gets = outcome.trace.gets()
    if gets and submitted[-1]["t"] > gets[0]["t"]:
        if run.explain(calls_method, run, "many", "apply", plain=False):  # apply_async(...).get() in one call
            run.fail("ex06.apply_waits", outcome, total=len(submitted))
        before = sum(1 for event in submitted if event["t"] < gets[0]["t"])
        run.fail("ex06.get_too_early", outcome, before=before, total=len(submitted))


def test_pool_closed(run: Run) -> None:
    """Every pool is closed and joined (or terminated by a `with` block) before returning."""
    for name in ("one", "many"):
        run.returned(name)


def _expect_apply_async(run: Run, outcome, expected: int) -> None:
    submitted = [e for e in outcome.trace.apply_async() if e.get("func", "").endswith(".job")]
    calls = outcome.trace.calls("job")
    if len(submitted) != expected:
        run.fail("ex06.apply_async_count", outcome, expected=expected, got=len(submitted))
    # Not every job() has to have run: the values check covers results. A pool left by
    # its `with` block before the results were read may cut tasks short, at random.
    if any(c["pid"] == outcome.trace.main_pid for c in calls):
        run.fail("ex06.not_in_workers", outcome)
    if run.caller_worked(outcome):  # the records above explain a failure; these facts make a pass
        run.fail("ex06.not_in_workers", outcome)
    if not run.worked(outcome, run.kernel(outcome).created(), expected):  # how many did run is a race: not shown
        run.fail("ex06.not_run_in_workers", outcome, expected=expected)
