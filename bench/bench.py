"""Benchmark: how long a student waits for ``grade``.

For each exercise, prints the median wall time of ``grade exercise-N --solution`` next
to a plain run of the same reference functions with the same inputs under the same start
methods (a fresh interpreter per method, as a student running the file would use), the
time ``grade`` takes to answer a submission that hangs, and the cost of the sandbox
itself: one session of the plan under bubblewrap and under the process-level sandbox,
next to the plain run of the same calls under the same start method.

    python bench/bench.py [--runs 5] [EXERCISE ...]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.manifest import load_course  # noqa: E402
from grader.sandbox import Ref, SessionSpec, run_session  # noqa: E402
from grader.sandbox import isolation as isolation_module  # noqa: E402

SEED = 1
HANGING = {  # exercise: a submission that hangs (the starter, for these two)
    "exercise-9": ROOT / "exercises" / "ex09_drain.py",
    "exercise-2": ROOT / "exercises" / "ex02_main_guard.py",
}
PLAIN_RUNNER = """
import importlib, json, multiprocessing, subprocess, sys

def arg(a):
    if isinstance(a, dict) and "__ref__" in a:
        m, _, n = a["__ref__"].rpartition(".")
        return getattr(importlib.import_module(m), n)
    return [arg(x) for x in a] if isinstance(a, list) else a

if __name__ == "__main__":
    method, folder, module, calls, probes = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5]
    sys.path[:0] = [folder, probes]
    multiprocessing.set_start_method(method)
    for kind, function, args in calls:
        if kind == "script":
            subprocess.run([sys.executable, folder + "/" + function], check=True, stdout=subprocess.DEVNULL)
        else:
            mod = importlib.import_module(module)
            if kind == "function":
                getattr(mod, function)(*[arg(a) for a in args])
"""


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - started


def grade_time(exercise_id: str, *extra: str) -> float:
    return timed([sys.executable, "-m", "grader", exercise_id, "--seed", str(SEED), *extra])


def load_plan(exercise):
    import importlib.util

    spec = importlib.util.spec_from_file_location("checks", exercise.checks)
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)
    return checks.plan(random.Random(f"{SEED}:{exercise.id}"))


def session_time(exercise, method: str, mode: str, observe: bool = True) -> float:
    """One sandbox session of the exercise's plan (``mode``: a GRADE_ISOLATION value),
    with or without the ptrace observation of its processes."""
    os.environ["GRADE_ISOLATION"] = mode
    isolation_module.isolation.cache_clear()
    plan = load_plan(exercise)
    spec = SessionSpec(exercise.module, ROOT / "solutions" / f"{exercise.module}.py", method, tuple(plan.calls),
                       plan.timeout_s or exercise.timeout, traced=plan.traced, align=plan.align, order=plan.order,
                       observe=observe)
    started = time.perf_counter()
    run_session(spec)
    return time.perf_counter() - started


def plain_time(exercise, runner: Path, methods: tuple[str, ...] | None = None) -> float:
    """The same calls, without the grader: one fresh interpreter per start method."""
    import json

    plan = load_plan(exercise)
    calls = [[c.kind, c.function, [_json(a) for a in c.args]] for c in plan.calls]
    probe_dir = ROOT / "grader" / "sandbox" / "boot"
    total = 0.0
    for method in methods or exercise.start_methods:
        total += timed([sys.executable, str(runner), method, str(ROOT / "solutions"), exercise.module,
                        json.dumps(calls), str(probe_dir)])
    return total


def _json(argument):
    if isinstance(argument, Ref):
        return {"__ref__": argument.qualified_name}
    if isinstance(argument, (list, tuple)):
        return [_json(a) for a in argument]
    return argument


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sandbox-only", action="store_true", help="only the cost of the sandbox")
    args = parser.parse_args()
    course = load_course(ROOT)
    chosen = [course.select(name) for name in args.exercises] or list(course.exercises)
    if None in chosen:
        parser.error(f"unknown exercise among {args.exercises}")
    with tempfile.TemporaryDirectory() as folder:
        runner = Path(folder) / "plain.py"
        runner.write_text(PLAIN_RUNNER)
        if args.sandbox_only:
            chosen_for_grade = []
        else:
            chosen_for_grade = chosen
            print(f"{'exercise':<12} {'grade --solution':>17} {'plain run':>10} {'overhead':>9}   (median of {args.runs})")
        for exercise in chosen_for_grade:
            graded = statistics.median(grade_time(exercise.id, "--solution") for _ in range(args.runs))
            plain = statistics.median(plain_time(exercise, runner) for _ in range(args.runs))
            print(f"{exercise.id:<12} {graded:>15.2f} s {plain:>8.2f} s {graded - plain:>+7.2f} s")
        print()
        for exercise_id, submission in HANGING.items():
            exercise = course.select(exercise_id)
            if exercise not in chosen_for_grade:
                continue
            answered = statistics.median(grade_time(exercise_id, "--submission", str(submission))
                                         for _ in range(max(1, args.runs // 2)))
            timeout = 5.0 if exercise_id == "exercise-2" else exercise.timeout
            print(f"{exercise_id} hanging submission answered in {answered:.2f} s "
                  f"(timeout {timeout:g} s, target ≤ {timeout + 1:g} s)")
        print(f"\nsandbox cost, one session (spawn), median of {args.runs}:")
        print(f"{'exercise':<12} {'plain':>8} {'process':>8} {'bwrap':>8} {'unobserved':>11} {'observing':>10}")
        for exercise in chosen:
            plain = statistics.median(plain_time(exercise, runner, ("spawn",)) for _ in range(args.runs))
            process, bwrap, unobserved = (
                statistics.median(session_time(exercise, "spawn", mode, observe) for _ in range(args.runs))
                for mode, observe in (("process", True), ("auto", True), ("auto", False)))
            print(f"{exercise.id:<12} {plain:>6.3f} s {process:>6.3f} s {bwrap:>6.3f} s {unobserved:>9.3f} s "
                  f"{(bwrap - unobserved) / unobserved:>+9.0%}")


if __name__ == "__main__":
    main()
