"""Measure how deterministic the verdicts are: grade submissions many times, each start
method alone, and count the verdict of every check.

    python bench/flakiness.py exercise-8 --runs 20                          # the starter
    python bench/flakiness.py exercise-8 --runs 20 --solution
    python bench/flakiness.py --runs 20 tests/examples/ex03_queue/wrong_arrival_order/ex03_queue.py
    python bench/flakiness.py --runs 20 --markdown tests/examples/ex0[39]*/*/ex*.py

A sound check gives the same verdict on every run: a wrong submission fails the same
checks N/N, the solution passes N/N. Each run draws new inputs (a new seed), as a
student's runs do. Prints one table row per submission, check and start method; a row
whose verdicts differ between runs is marked FLAKY and the script exits with status 1.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("fork", "spawn", "forkserver")


def grade(target: list[str], method: str) -> dict:
    completed = subprocess.run([sys.executable, "-m", "grader", *target, "--format", "json",
                                "--start-method", method], cwd=ROOT, capture_output=True, text=True, timeout=600)
    (exercise,) = json.loads(completed.stdout)["exercises"]
    return exercise


def measure(target: list[str], method: str, runs: int, jobs: int) -> dict[str, collections.Counter]:
    verdicts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    with ThreadPoolExecutor(jobs) as pool:
        for exercise in pool.map(lambda _: grade(target, method), range(runs)):
            verdicts["(exercise)"][exercise["status"]] += 1
            for check in exercise["checks"]:
                verdicts[check["name"]][check["status"]] += 1
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="+", help="an exercise (its starter), or submission files")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--solution", action="store_true", help="grade the exercise's reference solution")
    parser.add_argument("--start-method", action="append", choices=METHODS, dest="methods",
                        help="only these start methods (default: each of the three, alone)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="gradings at once (2 cores: 1 is the honest figure)")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    flaky = False
    rows = []
    for target in args.targets:
        path = Path(target).resolve()
        if path.is_file():
            examples = ROOT / "tests" / "examples"
            name = str(path.parent.relative_to(examples)) if examples in path.parents else target
            command = ["--submission", str(path)]
        else:
            name, command = f"{target} ({'solution' if args.solution else 'starter'})", [target] + (
                ["--solution"] if args.solution else [])
        for method in args.methods or METHODS:
            for check, counter in measure(command, method, args.runs, args.jobs).items():
                stable = len(counter) == 1
                flaky |= not stable
                verdicts = ", ".join(f"{status} {count}/{args.runs}" for status, count in counter.most_common())
                rows.append((name, check, method, verdicts, "" if stable else "FLAKY"))
                if not args.markdown:
                    print(f"{name:<45} {check:<45} {method:<11} {verdicts}  {rows[-1][-1]}", flush=True)
    if args.markdown:
        print("| submission | check | start method | verdicts | |\n|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    return 1 if flaky else 0


if __name__ == "__main__":
    sys.exit(main())
