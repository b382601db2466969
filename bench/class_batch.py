"""Grading a class: a synthetic class graded by ``grade batch`` with ``-j 1`` and ``-j 2``.

    python bench/class_batch.py                      # 40 students, every exercise
    python bench/class_batch.py --students 12 --exercises 3,8,9 --compare 4

Each student of the class is made from the golden examples (``tests/examples/``): for
every exercise, the k-th student hands in the exercise's (k mod count)-th golden
submission, so the class holds correct, wrong and hanging submissions in the goldens'
proportions, and no two neighbours hand in the same set. Prints, for each ``-j``: the
wall time, the students graded per minute, and the peak memory (RSS) of the grader's
worker processes over the first and the last quarter of the class (flat: no leak);
then the speed-up of ``-j 2`` over ``-j 1``; then the cost of a student in the batch
against ``grade --submission`` run once per student (``--compare`` students, each in a
fresh ``grade`` process: what grading the class without ``grade batch`` would cost).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "tests" / "examples"


def make_class(folder: Path, students: int, exercises: list[str]) -> None:
    goldens = {exercise: sorted(path for path in (EXAMPLES / exercise).glob("*/*.py"))
               for exercise in exercises}
    for index in range(students):
        student = folder / f"student-{index:03d}" / "exercises"
        student.mkdir(parents=True)
        for exercise, files in goldens.items():
            if files:
                shutil.copyfile(files[(index + len(exercise)) % len(files)], student / f"{exercise}.py")


def worker_rss_kib() -> int:
    """The resident memory of every ``grade batch`` worker process now, in KiB."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"--worker" not in (entry / "cmdline").read_bytes():
                continue
            status = (entry / "status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) if match else 0
    return total


def run_batch(submissions: Path, out: Path, jobs: int) -> tuple[float, list[tuple[float, int]]]:
    """Wall seconds, and (time, workers' RSS) samples every 0.5 s."""
    samples: list[tuple[float, int]] = []
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out),
                                "-j", str(jobs), "--seed", "1"], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            samples.append((time.monotonic() - started, worker_rss_kib()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process.wait()
    stop.set()
    sampler.join()
    return time.monotonic() - started, samples


def one_by_one(submissions: Path, count: int) -> dict[str, float]:
    """Wall seconds of ``grade --submission`` for each of the first ``count`` students."""
    times = {}
    for student in sorted(submissions.iterdir())[:count]:
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "grader", "--submission", str(student / "exercises"), "--seed", "1",
                        "--format", "json"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[student.name] = time.monotonic() - started
    return times


def batch_seconds(grades: Path, students: list[str]) -> list[float]:
    """How long the batch's worker took for each of ``students`` (their documents' ``seconds``)."""
    return [json.loads((grades / "students" / f"{name}.json").read_text())["seconds"] for name in students]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--exercises", default="", help="numbers (3,8,9); default: all ten")
    parser.add_argument("--compare", type=int, default=5, help="students graded one grade run each, to compare")
    args = parser.parse_args()
    names = sorted(path.name for path in EXAMPLES.iterdir() if re.match(r"ex\d\d_", path.name))
    if args.exercises:
        wanted = {int(n) for n in args.exercises.split(",")}
        names = [name for name in names if int(name[2:4]) in wanted]
    env_note = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    with tempfile.TemporaryDirectory(prefix="grade-class-bench-") as folder:
        submissions = Path(folder) / "class"
        make_class(submissions, args.students, names)
        print(f"A class of {args.students} students, {len(names)} exercise(s) each ({env_note})")
        results = {}
        for jobs in (1, 2):
            wall, samples = run_batch(submissions, Path(folder) / f"grades-j{jobs}", jobs)
            results[jobs] = wall
            quarter = wall / 4
            early = max((rss for t, rss in samples if t <= quarter), default=0)
            late = max((rss for t, rss in samples if t >= wall - quarter), default=0)
            print(f"-j {jobs}: {wall:6.1f} s, {60 * args.students / wall:5.1f} students/min, {wall / args.students:5.2f} s "
                  f"per student; workers' peak RSS {early / 1024:.0f} MiB (first quarter), {late / 1024:.0f} MiB "
                  f"(last quarter)")
        print(f"-j 2 speed-up over -j 1: {results[1] / results[2]:.2f}x")
        if args.compare:
            single = one_by_one(submissions, args.compare)
            alone = statistics.mean(single.values())
            in_batch = statistics.mean(batch_seconds(Path(folder) / "grades-j1", list(single)))
            print(f"The same {args.compare} students, each graded by its own grade --submission run: {alone:.2f} s on "
                  f"average; graded by a -j 1 batch worker: {in_batch:.2f} s = {in_batch / alone:.2f}x; the class's "
                  f"wall time per student: {results[1] / args.students / alone:.2f}x with -j 1, "
                  f"{results[2] / args.students / alone:.2f}x with -j 2 (against {alone:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
