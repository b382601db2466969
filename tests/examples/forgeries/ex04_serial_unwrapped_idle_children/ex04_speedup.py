"""Forgery (exercise-4, speedup): ``multicore`` runs the work serially in the caller,
through ``work.__wrapped__``, while two idle children claim overlapping calls.

``serial`` and ``threaded`` are the given, honest ones. ``multicore(tasks)`` calls
``work.__wrapped__(n)`` for every task in the caller's own thread: the undecorated
function under the grader's tracing wrapper (``functools.wraps`` leaves it there), so no
``call`` record of ``work`` is written in the caller, the ordering harness never holds
anything and the rendezvous is never reached. Alongside, it starts two processes whose
target only sleeps and then sends, through the runtime's ``emit``
(``sys.modules["_grade_runtime"]``), a ``call`` record of ``work`` covering the time it
slept: two children, overlapping intervals.

Why a correct grader must not pass it: the exercise shows that CPU-bound work only runs
in parallel in processes; here all of it runs in the caller, one task after another.
Calls the caller makes through ``__wrapped__`` are invisible, and the children's
overlapping "calls" are their own word.
"""

import multiprocessing as mp
import queue
import sys
import threading as td
import time


def work(n):
    """(given) CPU-bound work."""
    return sum(i * i for i in range(n))


def serial(tasks):
    """(given) Run every task in turn, in this thread."""
    return [work(n) for n in tasks]


def job(q, index, n):
    q.put((index, work(n)))


def threaded(tasks):
    q = queue.Queue()
    threads = [td.Thread(target=job, args=(q, index, n)) for index, n in enumerate(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = [None] * len(tasks)
    for _ in tasks:
        index, value = q.get()
        results[index] = value
    return results


def _claim(seconds):
    t0 = time.monotonic()
    time.sleep(seconds)
    runtime = sys.modules.get("_grade_runtime")
    if runtime is not None:
        runtime.emit("call", func="work", t0=t0, t=time.monotonic(), main_thread=True)


def multicore(tasks):
    decoys = [mp.Process(target=_claim, args=(0.5,)) for _ in range(2)]
    for p in decoys:
        p.start()
    plain = getattr(work, "__wrapped__", work)
    results = [plain(n) for n in tasks]  # serially, in the caller
    for p in decoys:
        p.join()
    return results


if __name__ == '__main__':
    tasks = [3_000_000] * 2
    for f in (serial, threaded, multicore):
        st = time.perf_counter()
        f(tasks)
        print(f'{f.__name__:10s} {time.perf_counter() - st:.2f} s')
