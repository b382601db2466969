"""Forgery (exercise-3, queue): the arrival-order bug, with the grader's ordering
harness switched off and children staggered only when grading is detected.

``collect(ns)`` is the classic wrong answer: one Process per element, one Queue, all
started before the first join, but the results are returned in the order they
arrive (``[q.get()[1] for ...]``), not put back by index. To pass anyway it does two
things, only when it finds the grader's tracing runtime in ``sys.modules``:

- at import (in every process that imports the module, so also in spawn and
  forkserver children), before the runtime wraps ``job``, it sets the runtime's
  ``_CONFIG["order"]`` to None: the wrapper is then built without the ordering
  harness (``_Turn``), so the grader's release order is never imposed and no
  ``ordered`` record (with or without ``gave_up``) is ever written;
- it sleeps 0.25 s after starting each child, so the children finish, and their
  results arrive, in the order of ``ns``.

Why a correct grader must not pass it: the check promises that "returning results in
the order they arrive fails every time"; this submission does exactly that. A grader
that accepts a call in which its harness never ran (no ``ordered`` record at all for a
call it asked to order) can be switched off by the submission.
"""

import multiprocessing as mp
import sys
import time

_RUNTIME = sys.modules.get("_grade_runtime")
GRADING = _RUNTIME is not None
if GRADING:
    _RUNTIME._CONFIG["order"] = None  # read when the runtime wraps job(), right after this import


def job(q, index, n):
    """(given) Put (index, sum of i + i**2 + i**3 for i < n) on q."""
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    q = mp.Queue()
    processes = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in processes:
        p.start()
        if GRADING:
            time.sleep(0.25)
    results = [q.get()[1] for _ in processes]  # in arrival order: the bug
    for p in processes:
        p.join()
    return results


if __name__ == '__main__':
    print(collect([10, 10]))
