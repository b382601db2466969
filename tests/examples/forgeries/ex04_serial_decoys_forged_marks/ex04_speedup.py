"""Forgery (exercise-4, speedup), beyond the kinds of issue 15: ``multicore`` runs the
work serially in the caller (through ``work.__wrapped__``) while two decoy children fake
the kernel-side evidence of parallel work.

Aimed at the grader that passes exercise-4 only on kernel facts (weighed spans: a
ballast of CPU between two mark signals the supervisor's tracer sees). ``serial`` and
``threaded`` are the given, honest ones. ``multicore(tasks)`` calls ``work.__wrapped__(n)``
for every task in the caller's own thread: the undecorated function, so the caller
sends no mark, no ``call`` record, and the rendezvous and ordering harness never run.
Alongside, two decoy processes each call the runtime's own
``_grade_runtime.weighed(_spin, (s,), {})`` twice: they send themselves the two mark
signals around a busy loop that computes nothing, so the kernel charges each decoy
"weighed calls" of CPU at the same time as the other; then each sends a ``call`` record
of ``work`` covering that time. Without ``weighed`` (an older grader) they just sleep.

Why a correct grader must not pass it: all the work runs in the caller, one task after
another. A weighed span proves that a process burnt CPU between two signals it sent
itself (``signal.pthread_kill`` is open to any code, and so is the runtime's
``weighed``), not that it ran ``work``.
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


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _claim(seconds):
    t0 = time.monotonic()
    runtime = sys.modules.get("_grade_runtime")
    weighed = getattr(runtime, "weighed", None)
    if weighed is not None:
        for _ in range(2):
            weighed(_spin, (seconds / 2,), {})
    else:
        time.sleep(seconds)
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
