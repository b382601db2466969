"""Timeouts fitted to the machine (grader/timeouts.py): what they cost, and whether they
hold when the CPU is throttled.

    python bench/timeouts.py ratios              # K's margin: golden calls vs the reference
    python bench/timeouts.py cost [--runs 2]     # the first grade (measuring) vs the next
    sudo python bench/timeouts.py goldens --cpus 0 0.5 [--measure throttled|before]

``ratios`` runs every golden submission's plan (the goldens' seed) and the reference
solution's, and prints, per case, its slowest call that finished (less what the grader's
harnesses may hold a call) over the reference's slowest call: ``auto`` gives ``K``
times that, plus a floor, so no ratio may come near ``K``.

``cost`` copies the course (without a cache) and times ``grade exercise-3`` and ``grade``
(all ten) on it twice: the first measures the reference solutions, the second reads them.

``goldens`` copies the repository and runs ``tests/test_examples.py`` (the verdict and
feedback of every golden submission) in a cpu cgroup (cgroup v1, as root) whose CFS quota
is each of ``--cpus`` in turn (0: no quota): with the reference measured inside the
throttle (``throttled``), or once before, unthrottled, and then scaled by the quota
(``before``). Measure on a quiet
machine (``uptime``: load below 1): the figures of a shared one are noisy.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.check import load_plan  # noqa: E402
from grader.manifest import load_course  # noqa: E402
from grader.timeouts import FLOOR_S, K, MEASURE_SEED, auto_seconds, harness_s, measure, run_plan  # noqa: E402

GOLDEN_SEED = "20261127"  # tests/test_examples.py's
CPU_CGROUP = Path("/sys/fs/cgroup/cpu")
LEFT_OUT = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".grade", "*.egg-info", ".pytest_cache")


def ratios() -> None:
    course = load_course(ROOT)
    print(f"each golden case's slowest call that finished, and the share of the auto timeout it used "
          f"({K:g} x the reference's slowest call + {FLOOR_S:g} s + the harness's hold)")
    for exercise in course.exercises:
        solution = course.solutions_dir / f"{exercise.module}.py"
        measured = measure(exercise, load_plan(exercise, f"{MEASURE_SEED}:{exercise.id}"), solution)
        reference = max(seconds for calls in measured.values() for seconds in calls.values())
        plan = load_plan(exercise, f"{GOLDEN_SEED}:{exercise.id}")
        limit = auto_seconds(reference, harness_s(plan))
        print(f"{exercise.id}: reference {reference:.2f} s, timeout {limit:g} s", flush=True)
        for case in sorted((ROOT / "tests" / "examples" / exercise.module).glob(f"*/{exercise.module}.py")):
            outcomes = [outcome for result in run_plan(exercise, plan, case).values()
                        for outcome in result.outcomes.values()]
            finished = [outcome.duration_s for outcome in outcomes if outcome.finished]
            hung = sum(1 for outcome in outcomes if outcome.status == "timeout")
            slowest = max(finished, default=0.0)
            print(f"  {case.parent.name:<40} {slowest:6.2f} s  {slowest / limit:4.0%} of the timeout"
                  + (f"  ({hung} calls hung: answered by the deadlock detector or the timeout)" if hung else ""),
                  flush=True)


def copy_of(what: str) -> Path:
    """A copy of the repository (``repo``) or of the course files only (``course``), without a cache."""
    folder = Path(tempfile.mkdtemp(prefix="grade-timeouts-"))
    target = folder / "course"
    if what == "repo":
        shutil.copytree(ROOT, target, ignore=LEFT_OUT)
    else:
        target.mkdir()
        for name in ("exercises.yaml", "exercises", "solutions", "grader", "docs", "pyproject.toml"):
            source = ROOT / name
            (shutil.copytree(source, target / name, ignore=LEFT_OUT) if source.is_dir()
             else shutil.copyfile(source, target / name))
    return target


def timed(command: list[str], cwd: Path, cgroup: Path | None = None) -> tuple[float, subprocess.CompletedProcess]:
    def enter() -> None:
        if cgroup is not None:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))

    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, preexec_fn=enter,
                               env={**os.environ, "GRADE_LANG": "en"})
    return time.perf_counter() - started, completed


def cost(runs: int) -> None:
    for selection in (["exercise-3"], ["exercise-4"], []):
        label = " ".join(selection) or "all ten"
        for _ in range(runs):
            course = copy_of("course")
            try:
                first, _ = timed([sys.executable, "-m", "grader", *selection], course)
                second, _ = timed([sys.executable, "-m", "grader", *selection], course)
            finally:
                shutil.rmtree(course.parent)
            print(f"grade {label:<11} first (measures the reference) {first:5.2f} s   next (cached) {second:5.2f} s   "
                  f"cost {first - second:+5.2f} s", flush=True)


def goldens(quotas: list[float], when: str) -> int:
    """The goldens under each CPU quota in turn (0: none), on one copy of the repository."""
    repo = copy_of("repo")
    failures = 0
    try:
        if when == "before":
            _, listed = timed([sys.executable, "-m", "grader.timeouts"], repo)
            print("the reference solutions measured unthrottled:\n" + listed.stdout, flush=True)
        for cpus in quotas:
            if when == "throttled":
                shutil.rmtree(repo / ".grade" / "timeouts", ignore_errors=True)
            failures += _goldens_under(repo, cpus, when)
    finally:
        shutil.rmtree(repo.parent, ignore_errors=True)
    return 1 if failures else 0


def _goldens_under(repo: Path, cpus: float, when: str) -> int:
    cgroup = CPU_CGROUP / f"grade-bench-{os.getpid()}" if cpus else None
    label = f"{cpus:g} CPU" if cpus else "no quota"
    try:
        if cgroup is not None:
            cgroup.mkdir()
            period = int((cgroup / "cpu.cfs_period_us").read_text())
            (cgroup / "cpu.cfs_quota_us").write_text(str(int(cpus * period)))
        wall, completed = timed([sys.executable, "-m", "pytest", "-q", "-n0", "-p", "no:cacheprovider",
                                 "tests/test_examples.py"], repo, cgroup)
        _, listed = timed([sys.executable, "-m", "grader.timeouts"], repo, cgroup)
    finally:
        if cgroup is not None:
            cgroup.rmdir()
    print(f"timeouts in force under {label} (the reference measured {when}):\n{listed.stdout}")
    summary = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else completed.stderr[-500:]
    print(f"tests/test_examples.py under {label}: {summary} (wall {wall:.0f} s)")
    for name in re.findall(r"^FAILED (\S+)", completed.stdout, re.MULTILINE):
        print(f"  FAILED {name}")
    print(flush=True)
    return completed.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ratios", help="golden calls' durations over the reference's")
    cost_parser = commands.add_parser("cost", help="the first grade (measuring) against the next")
    cost_parser.add_argument("--runs", type=int, default=2)
    golden_parser = commands.add_parser("goldens", help="the goldens' verdicts under a CPU quota (root)")
    golden_parser.add_argument("--cpus", type=float, nargs="+", default=[0.5],
                               help="CFS quotas, in CPUs, run in turn on one copy (0: none; default 0.5)")
    golden_parser.add_argument("--measure", choices=("throttled", "before"), default="before",
                               help="measure the reference inside the throttle, or before it (default)")
    args = parser.parse_args()
    if args.command == "ratios":
        ratios()
    elif args.command == "cost":
        cost(args.runs)
    else:
        return goldens(args.cpus, args.measure)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
