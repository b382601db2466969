"""Checks for exercise-8 (lock): ``multicore(times)`` must return ``4 * times`` every run.

The two ``job`` processes meet at a rendezvous before their loops, so they really run
at the same time under every start method (spawn's start-up jitter otherwise lets two
short jobs run one after the other and hides the race). Measured on this 2-core
machine with 20,000-30,000 increments per process:

- single runs of the starter (lock passed, never used), 25 sessions × 2 runs per start
  method: lost updates in 50/50 runs under fork, spawn and forkserver alike;
- ``python bench/flakiness.py exercise-8 --runs 40``: the starter failed 40/40 under every
  start method, the reference solution passed 40/40.

Without the rendezvous, spawn loses updates in only 5-7 runs out of 10 at 10,000
increments (measured on this 2-core machine).

A wrong total is explained by what the submission does with its lock, read from its
source (:func:`lock_mistake`): a lock never held, a lock each process makes for itself
(in ``job``, or one ``Lock()`` per ``Process`` in ``multicore``, or, under spawn and
forkserver, a lock made at the top level of the module, which every child makes again
when it imports the module), or else the general rule (the same lock, around the whole
update). The shortfall is a difference of totals, not a count of updates (``num`` is 1
in one process and 3 in the other). Before any of that, a child that died of an error
(the kernel saw it exit with a code above 0) is named with its exception
(:func:`grader.diagnose.children_died`): its additions were never made. A right total
from two processes the kernel saw run one after the other (the first ended before the
second was created: joined before the second was started) fails with that cause: they
never raced, so the lock is not what made it right.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

from grader.check import Align, Call, Plan, Run
from grader.diagnose import _is_main_guard as is_main_guard
from grader.diagnose import children_died

RUNS = 2


def plan(rng: random.Random) -> Plan:
    return Plan([Call(f"run{i}", "multicore", (rng.randint(20_000, 30_000),)) for i in range(RUNS)],
                # 4 s for the second process to arrive: one that starts late on a loaded machine
                # still races the first (a correct solution never waits that long).
                traced=("job",), weighed=("job",), align=Align("job", parties=2, timeout_s=4.0))


def test_exact_total_every_run(run: Run) -> None:
    for i in range(RUNS):
        outcome = run.returned(f"run{i}")
        times = outcome.call.args[0]
        if outcome.value != 4 * times:
            died = run.explain(children_died, outcome, run, plain="")
            if died:
                run.fail("ex08.children_died", outcome, run=i + 1, runs=RUNS, expected=4 * times,
                         got=outcome.value, why=died)
            key, params = lock_mistake(run.session.spec.submission, run.start_method)
            run.fail("ex08.lost_updates", outcome, run=i + 1, runs=RUNS, expected=4 * times,
                     got=outcome.value, short=_short(4 * times, outcome.value), why=run.t(key, **params))
        # A right total proves nothing if the two never raced: the kernel must have seen
        # both in job() at once, each using a CPU.
        kernel = run.kernel(outcome)
        if kernel.ran_one_after_another(kernel.created()):
            run.fail("ex08.serialized_total", outcome, total=outcome.value)
        run.expect_aligned(outcome, kernel.created())


def test_two_processes_ran_job(run: Run) -> None:
    for i in range(RUNS):
        outcome = run.returned(f"run{i}")
        pids = {c["pid"] for c in outcome.trace.calls("job")}  # the records explain; the kernel's facts pass
        worked = run.processes_that_worked(outcome)
        if len(pids) != 2 or outcome.trace.main_pid in pids or len(worked) != 2 or run.caller_worked(outcome):
            run.fail("ex08.two_processes", outcome, got=len(worked),
                     why=run.explain(children_died, outcome, run, plain=""))


def test_both_started_before_either_joined(run: Run) -> None:
    for i in range(RUNS):
        outcome = run.returned(f"run{i}")
        started = outcome.trace.started()
        joined = {e["child"] for e in outcome.trace.of("joined")}
        if len(started) != 2 or not all(e["child"] in joined for e in started):
            run.fail("ex08.not_joined", outcome, joined=len(joined & {e["child"] for e in started}))
        first_join = outcome.trace.first_join()
        if any(e["t"] > first_join["t"] for e in started) or run.kernel(outcome).ran_one_after_another(
                run.kernel(outcome).created()):
            run.fail("ex08.serialized", outcome)


def _short(expected: int, got: object) -> str:
    return str(expected - got) if isinstance(got, int) else "?"


LOCKS = ("Lock", "RLock", "Semaphore", "BoundedSemaphore")
# Start methods whose children import the module afresh (and so run its top-level code).
IMPORTING_METHODS = ("spawn", "forkserver")


def lock_mistake(submission: Path, start_method: str = "fork") -> tuple[str, dict[str, str]]:
    """What the submission does wrong with its lock, as a catalogue key (``ex08.why.*``)
    and its parameters: ``own_lock`` (``job`` creates a lock of its own),
    ``module_lock`` (``job`` holds a lock made at the top level of the module, and the
    children, started with ``start_method`` spawn or forkserver, import the module
    afresh: each makes its own), ``lock_per_process`` (``multicore`` creates a lock per
    process), ``no_lock`` (``job`` never acquires its lock), else ``race`` (the general
    rule)."""
    try:
        tree = ast.parse(submission.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return "ex08.why.race", {}
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    job, multicore = functions.get("job"), functions.get("multicore")
    if job is not None:
        for node in ast.walk(job):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and _creates_lock(node.value):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                return "ex08.why.own_lock", {"name": ast.unparse(targets[0])}
            if isinstance(node, ast.withitem) and _creates_lock(node.context_expr):
                return "ex08.why.own_lock", {"name": "lock"}
        if start_method in IMPORTING_METHODS:
            module_lock = _module_lock_used(tree, job)
            if module_lock is not None:
                name, made = module_lock
                return "ex08.why.module_lock", {"name": name, "made": made, "method": start_method}
    if multicore is not None and _lock_per_process(multicore):
        return "ex08.why.lock_per_process", {}
    if job is not None and not _acquires(job):
        return "ex08.why.no_lock", {}
    return "ex08.why.race", {}


def _module_lock_used(tree: ast.Module, job: ast.FunctionDef) -> tuple[str, str] | None:
    """``(name, "name = mp.Lock()")`` of a lock made by the module's top-level code
    (run at import time, outside ``if __name__ == "__main__":``) that ``job`` uses by
    that name (not a parameter or a local variable of ``job`` of the same name)."""
    made: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or is_main_guard(statement):
            continue
        for node in ast.walk(statement):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and _creates_lock(node.value):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        made.setdefault(target.id, f"{target.id} = {ast.unparse(node.value)}")
    if not made:
        return None
    arguments = job.args
    own = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                           arguments.vararg, arguments.kwarg) if a is not None}
    declared_global = {name for node in ast.walk(job) if isinstance(node, ast.Global) for name in node.names}
    own |= {node.id for node in ast.walk(job) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
            and node.id not in declared_global}
    for node in ast.walk(job):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in made and node.id not in own:
            return node.id, made[node.id]
    return None


def _creates_lock(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Call) and (
        isinstance(node.func, ast.Attribute) and node.func.attr in LOCKS
        or isinstance(node.func, ast.Name) and node.func.id in LOCKS)


def _lock_per_process(function: ast.FunctionDef) -> bool:
    """More than one ``Lock()`` made, a ``Lock()`` made in the arguments of a ``Process``,
    or in a loop that starts processes."""
    if sum(1 for node in ast.walk(function) if _creates_lock(node)) > 1:
        return True
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "Process":
            if any(_creates_lock(inner) for inner in ast.walk(node)):
                return True
        if isinstance(node, (ast.For, ast.While, ast.ListComp, ast.GeneratorExp)):
            inner = list(ast.walk(node))
            if any(_creates_lock(n) for n in inner) and any(
                    isinstance(n, ast.Call) and getattr(n.func, "attr", getattr(n.func, "id", "")) == "Process"
                    for n in inner):
                return True
    return False


def _acquires(function: ast.FunctionDef) -> bool:
    """Whether ``function`` ever takes a lock: a ``with`` block, or an ``acquire()`` call."""
    for node in ast.walk(function):
        if isinstance(node, ast.With) and node.items:
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "acquire":
            return True
    return False
