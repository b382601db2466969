"""From a fresh clone to a class report, as a teacher does it on a new machine, step by step.

    python bench/fresh_install.py [--students 40] [--ref HEAD] [--keep DIR]

Steps, each timed and each required to succeed: ``git clone`` of this repository at REF;
``pip wheel`` of the clone (build isolation: setuptools from the registry); a fresh
virtual environment with the wheel and its ``report`` extra installed (dependencies
from the registry, or pip's cache); ``grade --course COPY --solution`` on a second copy of
the clone (all ten exercises, which must pass), run from outside it; ``grade batch -j 2``
of a synthetic class (``bench/class_batch.py``'s: the golden examples, so correct, wrong
and hanging submissions), the course being the copy; ``grade report --html --csv`` of its
grades. Prints a table of the steps and their wall times; exit status 1 if a step failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from class_batch import make_class  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = [path.name for path in sorted((ROOT / "tests" / "examples").iterdir()) if path.is_dir()]


def step(name: str, command: list[str], cwd: Path, timings: list[tuple[str, float, str]],
         ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    verdict = "ok" if done.returncode in ok else f"FAILED (exit status {done.returncode})"
    timings.append((name, elapsed, verdict))
    print(f"{name:<44} {elapsed:7.1f} s  {verdict}", flush=True)
    if done.returncode not in ok:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
        raise SystemExit(1)
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--ref", default="HEAD", help="the commit to clone (default: HEAD)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="grade-fresh-"))
    work.mkdir(parents=True, exist_ok=True)
    timings: list[tuple[str, float, str]] = []
    try:
        clone, copy, venv = work / "clone", work / "copy", work / "venv"
        step("git clone", ["git", "clone", "-q", "--no-checkout", str(ROOT), str(clone)], work, timings)
        subprocess.run(["git", "checkout", "-q", args.ref], cwd=clone, check=True)
        step("pip wheel (build isolation)", [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                                             str(work / "dist"), str(clone)], work, timings)
        (wheel,) = (work / "dist").glob("grade-*.whl")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        step("pip install wheel[report] (fresh venv)", [str(venv / "bin" / "pip"), "install", "-q",
                                                         f"{wheel}[report]"], work, timings)
        shutil.copytree(clone, copy)
        grade = str(venv / "bin" / "grade")
        graded = step("grade --course COPY --solution (ten)", [grade, "--course", str(copy), "--solution",
                                                               "--format", "json"], work, timings)
        failed = [e["id"] for e in json.loads(graded.stdout)["exercises"] if e["status"] != "passed"]
        if failed:
            print(f"reference solutions not passing: {failed}", file=sys.stderr)
            return 1
        make_class(work / "class", args.students, EXERCISES)
        step(f"grade batch -j 2 ({args.students} students)", [grade, "batch", "--course", str(copy), "-j", "2",
                                                             str(work / "class"), "--out", str(work / "grades")],
             work, timings, ok=(0,))
        step("grade report --html --csv", [grade, "report", str(work / "grades"), "--html",
                                           str(work / "report.html"), "--csv", str(work / "grades.csv")],
             work, timings)
        with open(work / "grades.csv", encoding="utf-8-sig", newline="") as file:
            rows = list(csv.DictReader(file))
        graded_rows = sum(row["status"] == "graded" for row in rows)
        print(f"\n{len(rows)} students in the gradebook, {graded_rows} graded; report.html "
              f"{(work / 'report.html').stat().st_size // 1024} KiB; total {sum(t for _, t, _ in timings):.1f} s")
        return 0 if graded_rows == args.students else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
