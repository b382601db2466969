"""Measure how deterministic the verdicts are: grade submissions many times, each start
method alone, and count the verdict of every check.

    python bench/flakiness.py exercise-8 --runs 20                          # the starter
    python bench/flakiness.py exercise-8 --runs 20 --solution
    python bench/flakiness.py --runs 20 tests/examples/ex03_queue/wrong_arrival_order/ex03_queue.py
    python bench/flakiness.py --runs 20 --markdown tests/examples/ex0[39]*/*/ex*.py
    python bench/flakiness.py --course ../my-course --runs 20 ../my-course/tests/examples/*/*/ex*.py

A sound check gives the same verdict on every run: a wrong submission fails the same
checks N/N, the solution passes N/N. Each run draws new inputs (a new seed), as a
student's runs do; the runs are ``grade --stress N``'s, one after the other. Prints one table row per submission, check and start method; a row
whose verdicts differ between runs is marked FLAKY and the script exits with status 1.
``--course DIR`` measures another course (its exercises, starters, solutions and golden
examples), graded by its own grader; the default is ``grade``'s: the nearest folder with
exercises.yaml, from the current folder up (else this script's course).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
try:
    from grader.cli import add_course_option
    from grader.manifest import find_course_root
except ImportError:  # not installed: this course's own grader
    sys.path.insert(0, str(ROOT))
    from grader.cli import add_course_option
    from grader.manifest import find_course_root

METHODS = ("fork", "spawn", "forkserver")


def measure(target: list[str], method: str, runs: int) -> dict[str, dict[str, int]]:
    """Per check, how many runs gave each verdict (``grade --stress``, this start method alone),
    graded by the course's own grader (run in its folder: ``--course`` in ``target``)."""
    course = target[target.index("--course") + 1] if "--course" in target else ROOT
    completed = subprocess.run([sys.executable, "-m", "grader", *target, "--stress", str(runs), "--format", "json",
                                "--start-method", method], cwd=course, capture_output=True, text=True, timeout=3600)
    try:
        document = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"grade {' '.join(target)} --stress printed no JSON:\n{completed.stderr[-3000:]}") from None
    return {check["name"]: check["verdicts"] for check in document["checks"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="+", help="an exercise (its starter), or submission files")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--solution", action="store_true", help="grade the exercise's reference solution")
    parser.add_argument("--start-method", action="append", choices=METHODS, dest="methods",
                        help="only these start methods (default: each of the three, alone)")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    add_course_option(parser)
    args = parser.parse_args()
    course = (args.course or find_course_root() or ROOT).resolve()
    if not (course / "exercises.yaml").is_file():
        parser.error(f"--course {args.course}: no exercises.yaml there")
    flaky = False
    rows = []
    for target in args.targets:
        path = Path(target).resolve()
        if path.is_file():
            examples = course / "tests" / "examples"
            name = str(path.parent.relative_to(examples)) if examples in path.parents else target
            command = ["--submission", str(path), "--course", str(course)]
        else:
            name, command = f"{target} ({'solution' if args.solution else 'starter'})", [target] + (
                ["--solution"] if args.solution else []) + ["--course", str(course)]
        for method in args.methods or METHODS:
            for check, counter in measure(command, method, args.runs).items():
                stable = len(counter) == 1
                flaky |= not stable
                verdicts = ", ".join(f"{status} {count}/{args.runs}"
                                     for status, count in sorted(counter.items(), key=lambda item: -item[1]))
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
