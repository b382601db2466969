"""Measure how deterministic the verdicts are: grade one submission many times and count
the verdict of every check under every start method.

    python bench/flakiness.py exercise-8 --runs 50                      # the starter
    python bench/flakiness.py exercise-8 --runs 50 --solution
    python bench/flakiness.py exercise-4 --runs 30 --submission FILE

A sound check gives the same verdict on every run: the starter fails N/N, the solution
passes N/N. Figures go into the docstrings of the checks that race.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercise")
    parser.add_argument("--runs", type=int, default=20)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--solution", action="store_true")
    source.add_argument("--submission", type=Path)
    args = parser.parse_args()
    extra = ["--solution"] if args.solution else ["--submission", str(args.submission)] if args.submission else []
    verdicts: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    exercise_verdicts: collections.Counter = collections.Counter()
    for _ in range(args.runs):
        completed = subprocess.run([sys.executable, "-m", "grader", args.exercise, "--format", "json", *extra],
                                   cwd=ROOT, capture_output=True, text=True, timeout=600)
        (exercise,) = json.loads(completed.stdout)["exercises"]
        exercise_verdicts[exercise["status"]] += 1
        for check in exercise["checks"]:
            verdicts[check["name"], check["start_method"]][check["status"]] += 1
    print(f"{args.exercise} ({' '.join(extra) or 'starter'}), {args.runs} runs: {dict(exercise_verdicts)}")
    for (name, method), counter in sorted(verdicts.items()):
        print(f"  {name:<48} {method:<11} {dict(counter)}")


if __name__ == "__main__":
    main()
