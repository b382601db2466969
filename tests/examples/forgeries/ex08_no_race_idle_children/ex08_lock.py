"""Forgery (exercise-8, lock): no race is ever run; ``multicore(times)`` returns
``4 * times`` computed in the caller.

``multicore`` makes no shared Value and no Lock. It starts two real processes (both
started before either is joined, then both joined), but their target is an idle
function that never touches a counter: each only sends, through the tracing runtime's
``emit`` (``sys.modules["_grade_runtime"]``), a ``call`` record claiming that ``job``
ran in it (a short interval it really was alive for). ``job`` itself, and the
rendezvous the grader wraps around it, never run, so no ``aligned`` record exists that
could say the two never met.

Why a correct grader must not pass it: the exercise is about protecting ``v.value +=
num`` with a Lock while two processes race; this submission never increments anything
in a child. The right total is arithmetic, and "job ran in two processes" is the
children's word. The grader must require the evidence its own harness produces (the
rendezvous actually reached by both parties, calls of the traced ``job`` rather than
hand-written ``call`` records).
"""

import multiprocessing as mp
import sys
import time


def job(v, num, lock, times):
    for _ in range(times):
        with lock:
            v.value += num


def _idle(num, times):
    t0 = time.monotonic()
    time.sleep(0.05)
    runtime = sys.modules.get("_grade_runtime")
    if runtime is not None:
        runtime.emit("call", func="job", t0=t0, t=time.monotonic(), main_thread=True)


def multicore(times=10_000):
    p1 = mp.Process(target=_idle, args=(1, times))
    p2 = mp.Process(target=_idle, args=(3, times))
    p1.start()
    p2.start()
    p1.join()
    p2.join()
    return 4 * times


if __name__ == '__main__':
    print(multicore(), 'expected', 4 * 10_000)
