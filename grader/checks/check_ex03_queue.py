"""Checks for exercise-3 (queue): ``collect(ns)``, one process per element, one Queue.

The children's results are released in an order the check draws (never the input's,
see :func:`~grader.check.release_order`): a ``collect`` that returns results in the
order they arrive fails every run, under every start method. ``ns`` always holds a
repeated ``n`` (results keyed by ``n`` instead of the index lose one) and is never
sorted (results sorted by value do not pass by chance).

What passes rests on the values and on what the kernel showed (see docs/threat-model.md):
the child processes the call created, and the CPU time each spent in ``job`` (weighed:
a ballast of CPU time between two marks the supervisor's tracer sees). The runtime's
records can only make a check fail.
"""

from __future__ import annotations

import random

from grader.check import Call, Order, Plan, Run, release_order
from grader.diagnose import manager_servers


def job_value(n: int) -> int:
    return sum(i + i**2 + i**3 for i in range(n))


def plan(rng: random.Random) -> Plan:
    ns = rng.sample(range(500, 5_000), rng.randint(3, 4))
    ns.insert(rng.randrange(2, len(ns) + 1), rng.choice(ns[1:]))  # a repeated n, always
    while ns == sorted(ns):
        rng.shuffle(ns)
    order = Order("job", key_arg=1, calls={"values": release_order(list(range(len(ns))), rng, values=ns)})
    return Plan([Call("values", "collect", (ns,)), Call("empty", "collect", ([],))], traced=("job",),
                weighed=("job",), order=order)


def test_results_in_order_of_ns(run: Run) -> None:
    outcome = run.returned("values")
    ns = outcome.call.args[0]
    run.expect_value(outcome, [job_value(n) for n in ns], cause=lambda: _keyed_by_n(run, ns, outcome.value))
    run.expect_forced_order(outcome, processes=True)


def _keyed_by_n(run: Run, ns: list[int], got: object) -> str:
    """Why a wrong result of ``collect(ns)`` is wrong when it holds one result per
    distinct ``n`` (results keyed by ``n``); '' otherwise."""
    repeated = repeated_lost(ns, got)
    if not repeated:
        return ""
    return run.t("ex03.keyed_by_n", expected=len(ns), got=len(got), repeated=", ".join(map(str, repeated)))


def repeated_lost(ns: list[int], got: object) -> list[int]:
    """The values repeated in ``ns`` when ``got`` holds one result per distinct ``n``
    (in any order), as results keyed by ``n`` do: a repeated ``n`` kept one result and
    lost the others. [] otherwise."""
    repeated = sorted({n for n in ns if ns.count(n) > 1})
    distinct = sorted(job_value(n) for n in set(ns))
    if not repeated or not isinstance(got, list) or not all(isinstance(item, int) for item in got):
        return []
    return repeated if sorted(got) == distinct else []


def test_empty_input(run: Run) -> None:
    run.expect_value(run.returned("empty"), [])


def test_one_child_process_per_element(run: Run) -> None:
    outcome = run.returned("values")
    ns = outcome.call.args[0]
    kernel = run.kernel(outcome)
    children = kernel.created()
    if len(children) != len(ns):
        idle = [process.pid for process in children if not run.worked(outcome, [process])]
        if idle and set(idle) <= manager_servers(outcome):
            run.fail("ex03.manager_server", outcome, expected=len(ns), created=len(children),
                     worked=len(children) - len(idle), servers=len(idle))
        run.fail("ex03.process_count", outcome, expected=len(ns), got=len(children))
    runs = outcome.trace.calls("job")  # the records can explain a failure, never make a pass
    pids = {call["pid"] for call in runs}
    worked = run.processes_that_worked(outcome)
    if (len(runs) != len(ns) or outcome.trace.main_pid in pids or len(pids) != len(ns) or len(worked) != len(ns)
            or run.caller_worked(outcome)):
        run.fail("ex03.job_in_children", outcome, expected=len(ns), got=len(runs), children=len(worked))


def test_all_started_before_first_join(run: Run) -> None:
    outcome = run.returned("values")
    started = outcome.trace.started()
    first_join = outcome.trace.first_join()
    if first_join is None:
        run.fail("ex03.never_joined", outcome)
    late = [event for event in started if event["t"] > first_join["t"]]
    children = run.kernel(outcome).created()
    if late or run.kernel(outcome).ran_one_after_another(children):
        run.fail("ex03.serialized", outcome, late=len(late) or len(children) - 1, total=len(children))
