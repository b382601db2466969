"""Benchmark: how long a student waits for ``grade``, and what it costs the machine.

Prints, per exercise, the median wall time of ``grade exercise-N --solution`` next to a
plain run of the same reference functions with the same inputs under the same start
methods (a fresh interpreter per method, as a student running the file would use) and
their ratio (the goal: at most 1.5x); then the wall time and the CPU time (of ``grade``
and every process under it: the sandboxes, their children) of all ten exercises in one
``grade --solution``, piped and under a terminal (``script``: the live line must cost
nothing); then the time ``grade`` takes to answer a submission that hangs (exercise-9's
starter deadlocks: found from ``/proc`` within about two seconds; exercise-2's starter
starts children that start processes while they import it: stopped at the first one).

    python bench/bench.py [--runs 3] [--baseline REF|DIR] [EXERCISE ...]

``--baseline`` measures another version of the grader the same way, side by side: a
git ref (exported to a temporary folder) or a folder holding a copy of the project (its
own checks grade it: the plain run is that of this version's plans, so an exercise whose
plan changed in between is not compared like for like).
``--sandbox-cost`` adds what one sandbox session costs: process-level, with its walls,
and with and without the ptrace observation of its processes; then, for each wall every
mode has (the seccomp filter, the user of its own, the tmpfs session folder, the
cgroups), the time of a session with all walls up over that of one without that wall
(a ratio: 1.05 means the wall adds 5 %), in process mode and under bubblewrap.

CPU time comes from a cpuacct cgroup made for each run (cgroup v1 as root, or a
writable cgroup v2 folder): it counts every process the run starts, however it ends.
Without one, the CPU time of the whole machine during the run is shown instead
(``/proc/stat``: other work on the machine counts too), marked ``~``. With one, the CPU
the rest of the machine used during each run is shown too: a run beside other work is not
one to quote. Check that the machine is quiet first (``uptime``: a load below 1); on a
virtual machine whose host is busy the figures drift from one minute to the next: compare
versions run by run (``--baseline``), not with figures taken at another time.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import shutil
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
from grader.sandbox import session as session_module  # noqa: E402
from grader.timeouts import Timeouts  # noqa: E402

SEED = 1
TARGET_RATIO = 1.5
HANGING = {  # exercise: a submission that hangs (its starter) and how it should be answered
    "exercise-9": ("ex09_drain.py", "a deadlock, found early"),
    "exercise-2": ("ex02_main_guard.py", "children starting processes while importing it, stopped at the first"),
}
PLAIN_RUNNER = """
import importlib, json, multiprocessing, subprocess, sys

SCRIPT = '''
import multiprocessing, runpy, sys
multiprocessing.set_start_method(sys.argv[1])
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''

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
        if kind == "script":  # under the same start method, as grade runs it (python FILE: the default one)
            subprocess.run([sys.executable, "-c", SCRIPT, method, folder + "/" + function], check=True,
                           stdout=subprocess.DEVNULL)
        else:
            mod = importlib.import_module(module)
            if kind == "function":
                getattr(mod, function)(*[arg(a) for a in args])
"""


class CpuMeter:
    """The CPU seconds of a command and everything it starts: a cgroup of its own where
    one can be made, else the whole machine's (``exact`` False)."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.exact = False

    def __enter__(self) -> CpuMeter:
        candidates = [Path("/sys/fs/cgroup/cpuacct")]
        with contextlib.suppress(OSError, ValueError):
            own = Path("/proc/self/cgroup").read_text().splitlines()
            v2 = next((line.split(":", 2)[2] for line in own if line.startswith("0::")), None)
            if v2 is not None and (Path("/sys/fs/cgroup") / "cgroup.controllers").is_file():
                candidates.append(Path("/sys/fs/cgroup") / v2.lstrip("/"))
        for parent in candidates:
            folder = parent / f"grade-bench-{os.getpid()}-{time.monotonic_ns()}"
            try:
                folder.mkdir()
            except OSError:
                continue
            self.folder, self.exact = folder, True
            break
        return self

    def __exit__(self, *exc) -> None:
        if self.folder is not None:
            for _ in range(100):
                try:
                    self.folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.01)

    def enter(self) -> None:
        """In the child, before exec."""
        if self.folder is not None:
            (self.folder / "cgroup.procs").write_text("0")

    def usage(self) -> float:
        if self.folder is None:
            return _machine_cpu()
        if (self.folder / "cpuacct.usage").is_file():
            return int((self.folder / "cpuacct.usage").read_text()) / 1e9
        stat = dict(line.split() for line in (self.folder / "cpu.stat").read_text().splitlines())
        return int(stat["usage_usec"]) / 1e6


def _machine_cpu() -> float:
    with open("/proc/stat") as file:
        fields = file.readline().split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def timed(command: list[str], cwd: Path = ROOT) -> float:
    return timed_cpu(command, cwd)[0]


# As a student's machine: byte code is cached (PYTHONDONTWRITEBYTECODE, set in some
# development environments, would make every run compile the grader's modules again).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def byte_compile(folder: Path) -> None:
    """Cache the byte code of a version's grader and solutions, as its first run would."""
    for sub in ("grader", "solutions"):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder / sub)], env=ENV,
                       stdout=subprocess.DEVNULL, check=False)


def timed_cpu(command: list[str], cwd: Path = ROOT, terminal: bool = False) -> tuple[float, float, bool]:
    """Wall seconds, CPU seconds and whether the CPU figure is the command's own."""
    return timed_cpu_others(command, cwd, terminal)[:3]


def timed_cpu_others(command: list[str], cwd: Path = ROOT,
                     terminal: bool = False) -> tuple[float, float, bool, float | None]:
    """As :func:`timed_cpu`, and the CPU seconds the rest of the machine used meanwhile
    (None without a cgroup of the command's own): a run beside other work is not one to
    quote."""
    if terminal:  # under a pseudo-terminal, as a student runs it (the live line on)
        command = ["script", "-qec", " ".join(map(_quote, command)), "/dev/null"]
    with CpuMeter() as meter:
        before = meter.usage() if not meter.exact else 0.0
        machine = _machine_cpu()
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600,
                       stdin=subprocess.DEVNULL, preexec_fn=meter.enter, env=ENV)
        wall = time.perf_counter() - started
        cpu = meter.usage() - before
        others = _machine_cpu() - machine - cpu if meter.exact else None
    return wall, cpu, meter.exact, others


def _quote(word: str) -> str:
    import shlex

    return shlex.quote(word)


def grade_command(*args: str) -> list[str]:
    # ``-m grader`` from the project's folder: the grader of that folder (a baseline's too)
    return [sys.executable, "-m", "grader", *args, "--seed", str(SEED)]


def load_plan(exercise):
    import importlib.util

    spec = importlib.util.spec_from_file_location("checks", exercise.checks)
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)
    return checks.plan(random.Random(f"{SEED}:{exercise.id}"))


# A wall every mode has -> the fields of the decided isolation that take it down (for
# measuring its cost only: the grader itself has no switch to turn one off).
WALLS = {"seccomp": {"seccomp_reason": "off to measure"}, "own user": {"user_reason": "off to measure"},
         "tmpfs": {"tmpfs_reason": "off to measure"}, "cgroups": {"cgroups": None}}


def session_time(exercise, method: str, mode: str, observe: bool = True, without: str = "") -> float:
    """One sandbox session of the exercise's plan (``mode``: a GRADE_ISOLATION value),
    with or without the ptrace observation of its processes, ``without`` one of WALLS."""
    os.environ["GRADE_ISOLATION"] = mode
    isolation_module.isolation.cache_clear()
    decided = isolation_module.isolation()
    session_module.isolation = lambda: dataclasses.replace(decided, **WALLS[without]) if without else decided
    plan = load_plan(exercise)
    spec = SessionSpec(exercise.module, ROOT / "solutions" / f"{exercise.module}.py", method, tuple(plan.calls),
                       Timeouts(load_course(ROOT)).resolve(exercise).seconds, traced=plan.traced, align=plan.align,
                       order=plan.order, observe=observe)
    started = time.perf_counter()
    run_session(spec)
    return time.perf_counter() - started


def plain_time(exercise, runner: Path, methods: tuple[str, ...] | None = None) -> float:
    """The same calls, without the grader: one fresh interpreter per start method."""
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


@contextlib.contextmanager
def baseline_folder(baseline: str | None):
    """The folder of the version to compare with: a folder as given, or a git ref exported."""
    if baseline is None:
        yield None
        return
    if Path(baseline).is_dir():
        yield Path(baseline).resolve()
        return
    folder = Path(tempfile.mkdtemp(prefix="grade-baseline-"))
    try:
        archive = subprocess.run(["git", "archive", baseline], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _load() -> str:
    with open("/proc/loadavg") as file:
        return file.read().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--baseline", help="a git ref or a folder: the version to compare with")
    parser.add_argument("--sandbox-cost", action="store_true", help="also the cost of one sandbox session")
    parser.add_argument("--no-exercises", action="store_true", help="skip the per-exercise table")
    args = parser.parse_args()
    course = load_course(ROOT)
    chosen = [course.select(name) for name in args.exercises] or list(course.exercises)
    if None in chosen:
        parser.error(f"unknown exercise among {args.exercises}")
    print(f"load average before: {_load()} (measure on a quiet machine: below 1)\n")
    with tempfile.TemporaryDirectory() as folder, baseline_folder(args.baseline) as base:
        runner = Path(folder) / "plain.py"
        runner.write_text(PLAIN_RUNNER)
        versions = [("before", base), ("now", ROOT)] if base else [("now", ROOT)]
        for _, cwd in versions:
            byte_compile(cwd)
        if not args.no_exercises:
            head = "  ".join(f"{'grade ' + name:>12} {'ratio':>6}" for name, _ in versions)
            print(f"{'exercise':<12} {'plain run':>10}  {head}   (median of {args.runs}; goal: ratio ≤ {TARGET_RATIO})")
            for exercise in chosen:
                plain = statistics.median(plain_time(exercise, runner) for _ in range(args.runs))
                cells = []
                for _, cwd in versions:
                    graded = statistics.median(timed(grade_command(exercise.id, "--solution"), cwd)
                                               for _ in range(args.runs))
                    mark = " " if graded / plain <= TARGET_RATIO else "!"
                    cells.append(f"{graded:>10.2f} s {graded / plain:>5.2f}x{mark}")
                print(f"{exercise.id:<12} {plain:>8.2f} s  " + "  ".join(cells), flush=True)
            print()
        if len(chosen) == len(course.exercises):
            print(f"all {len(chosen)} exercises, one grade --solution (median of {args.runs}; goal: under 6 s):")
            for terminal in (False, True):
                for name, cwd in versions:
                    runs = [timed_cpu_others(grade_command("--solution"), cwd, terminal) for _ in range(args.runs)]
                    wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
                    exact = all(r[2] for r in runs)
                    others = "" if not exact else \
                        f"   CPU of other work meanwhile: {', '.join(f'{r[3]:.1f}' for r in runs)} s"
                    print(f"  {name:<7} {'terminal' if terminal else 'piped':<9} wall {wall:5.2f} s   "
                          f"CPU {'' if exact else '~'}{cpu:5.2f} s{'' if exact else ' (whole machine)'}   "
                          f"runs: {', '.join(f'{r[0]:.2f}' for r in runs)}{others}", flush=True)
            print()
        for exercise_id, (module, how) in HANGING.items():
            exercise = course.select(exercise_id)
            if exercise not in chosen:
                continue
            for name, cwd in versions:
                answered = statistics.median(timed(grade_command(exercise_id, "--submission",
                                                                 str(cwd / "exercises" / module)), cwd)
                                             for _ in range(args.runs))
                print(f"{exercise_id} starter ({how}; call timeout {Timeouts(course).resolve(exercise).seconds:g} s): "
                      f"answered in {answered:.2f} s ({name})")
        if not args.sandbox_cost:
            return
        print(f"\nsandbox cost, one session (spawn), median of {args.runs}:")
        print(f"{'exercise':<12} {'plain':>8} {'process':>8} {'bwrap':>8} {'unobserved':>11} {'observing':>10}")
        for exercise in chosen:
            plain = statistics.median(plain_time(exercise, runner, ("spawn",)) for _ in range(args.runs))
            process, bwrap, unobserved = (
                statistics.median(session_time(exercise, "spawn", mode, observe) for _ in range(args.runs))
                for mode, observe in (("process", True), ("auto", True), ("auto", False)))
            print(f"{exercise.id:<12} {plain:>6.3f} s {process:>6.3f} s {bwrap:>6.3f} s {unobserved:>9.3f} s "
                  f"{(bwrap - unobserved) / unobserved:>+9.0%}")
        print(f"\ncost of each wall, one session (spawn), median of {args.runs}: "
              "time with every wall up / time without that one")
        print(f"{'exercise':<12} {'mode':<11} " + " ".join(f"{wall:>9}" for wall in WALLS))
        for exercise in chosen:
            for mode in ("process", "bubblewrap"):
                if mode == "bubblewrap" and not shutil.which("bwrap"):
                    continue
                ratios = []
                for wall in WALLS:
                    if wall == "own user" and mode == "bubblewrap":  # a root grader under bubblewrap always has it
                        ratios.append(float("nan"))
                        continue
                    pairs = [(session_time(exercise, "spawn", mode), session_time(exercise, "spawn", mode, without=wall))
                             for _ in range(args.runs)]
                    ratios.append(statistics.median(up for up, _ in pairs) / statistics.median(down for _, down in pairs))
                print(f"{exercise.id:<12} {mode:<11} " + " ".join(f"{ratio:>9.2f}" if ratio == ratio else f"{'-':>9}"
                                                                  for ratio in ratios), flush=True)


if __name__ == "__main__":
    main()
