"""Feedback that is right about what happened: output excerpts, and durations.

The causes and hints of failures are covered by the golden examples
(``tests/examples``, ``"hint"`` in each golden); these are the parts goldens leave out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT, grade_json
from grader.diagnose import tail, tidy_output, without_grader_frames
from grader.report import OUTPUT_LINES, _tail
from grader.sandbox.session import BOOT_DIR

TRACEBACK = f'''Process Process-1:
Traceback (most recent call last):
  File "/usr/lib/python3.11/multiprocessing/process.py", line 314, in _bootstrap
    self.run()
  File "{BOOT_DIR}/_grade_runtime.py", line 166, in run
    return original_run(self)
           ^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3.11/multiprocessing/process.py", line 108, in run
    self._target(*self._args, **self._kwargs)
  File "/tmp/grade-x/src/ex03_queue.py", line 7, in job
    res = sum(i for i in range(n))
                         ^^^^^^^^
TypeError: 'float' object cannot be interpreted as an integer'''


def test_the_graders_own_frames_are_left_out() -> None:
    cleaned = without_grader_frames(TRACEBACK)
    assert "_grade_runtime" not in cleaned and "original_run" not in cleaned
    assert cleaned.splitlines()[-1].startswith("TypeError")
    assert 'ex03_queue.py", line 7, in job' in cleaned and "process.py\", line 108" in cleaned


def test_the_end_of_an_output_is_kept_in_whole_lines() -> None:
    output = "\n".join(f"debug line {i:03d}" for i in range(300)) + "\n" + TRACEBACK
    shown, cut = tail(output, 600)
    assert cut and len(shown) <= 600
    assert shown.endswith("cannot be interpreted as an integer")
    assert all(line in output.splitlines() for line in shown.splitlines())  # whole lines only
    short, cut = tail("one\ntwo\n", 600)
    assert (short, cut) == ("one\ntwo", False)


def test_a_traceback_cut_short_begins_at_the_next_whole_one() -> None:
    shown, cut = tail(TRACEBACK + "\n" + TRACEBACK, len(TRACEBACK) + 60)
    assert cut and shown.startswith("Process Process-1:\nTraceback (most recent call last):")


def test_repeated_and_unfinished_tracebacks_are_tidied() -> None:
    worker = TRACEBACK.replace("Process-1", "SpawnPoolWorker-{n}")
    output = "\n".join(worker.format(n=n) for n in range(2, 6))
    unfinished = "\n".join(worker.format(n=6).splitlines()[:5])  # killed while printing
    tidied = tidy_output(output + "\n" + unfinished, "[again {count} time(s)]")
    assert tidied.count("Traceback") == 1 and tidied.endswith("[again 3 time(s)]")


def test_the_text_report_says_how_many_lines_it_leaves_out() -> None:
    output = "\n".join(f"line {i}" for i in range(OUTPUT_LINES + 7))
    shown = _tail(output, "en").splitlines()
    assert shown[0] == "[7 earlier line(s) not shown]"
    assert shown[1:] == output.splitlines()[7:]
    assert _tail("a\nb", "en") == "a\nb"


SLOW_QUEUE = '''\
import multiprocessing as mp
import time


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    if ns:
        time.sleep(5)
    q = mp.Queue()
    processes = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in processes:
        p.start()
    results = [None] * len(ns)
    for _ in ns:
        index, value = q.get()
        results[index] = value
    for p in processes:
        p.join()
    return results
'''


def test_an_exercise_graded_after_another_counts_only_its_own_time(tmp_path: Path) -> None:
    """Exercise-5's sessions start while exercise-3's run (they are prefetched) and end
    long before exercise-3's checks read theirs: its duration is its own work, not the
    time until its results were read."""
    (tmp_path / "ex03_queue.py").write_text(SLOW_QUEUE, encoding="utf-8")
    shutil.copy(ROOT / "solutions" / "ex05_pool_map.py", tmp_path)
    report = grade_json("exercise-3", "exercise-5", "--submission", str(tmp_path), "--start-method", "fork",
                        timeout=180)
    slow, quick = report["exercises"]
    assert slow["status"] == quick["status"] == "passed", report
    assert slow["duration_s"] >= 5.0
    assert quick["duration_s"] < slow["duration_s"] - 2.0, (quick["duration_s"], slow["duration_s"])
