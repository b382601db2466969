"""Forgery (exercise-8, lock): no lock around the update, with the grader's rendezvous
switched off and the two loops kept apart only when grading is detected.

``job`` adds ``num`` to ``v.value`` ``times`` times without ever holding the lock around
an update (the race the exercise is about). To pass anyway, only when it finds the
grader's tracing runtime in ``sys.modules``:

- at import (in every process that imports the module, so in spawn and forkserver
  children too), before the runtime wraps ``job``, it sets the runtime's
  ``_CONFIG["align"]`` to None: ``job`` is then wrapped without the rendezvous that
  makes the two processes start their loops together, and no ``aligned`` record is
  written that could say they never met;
- it runs the two loops one after the other, while keeping both processes busy at the
  same time, as racing ones would be to the kernel's CPU accounting: the process with
  ``num != 1`` takes the lock on arrival (only as a flag: "I am here") and spins until
  the other has finished (``v.value >= times``); the process with ``num == 1`` spins
  until it sees the flag, then runs its loop. No update is lost, and none is made
  under the lock.

``multicore`` is the given one: one Value, one Lock, two Processes both started before
either is joined. Outside grading, ``job`` races and loses updates.

Why a correct grader must not pass it: ``job`` holds no lock around ``v.value += num``,
and the check promises that "when they never meet (one ran after the other), the check
fails and says so". A grader that accepts a call in which its rendezvous never ran (no
``aligned`` record for a call it asked to align, or only records the children wrote)
can be switched off by the submission, and "both were busy at once" is not "both were
incrementing at once".
"""

import multiprocessing as mp
import sys
import time

_RUNTIME = sys.modules.get("_grade_runtime")
GRADING = _RUNTIME is not None
if GRADING:
    _RUNTIME._CONFIG["align"] = None  # read when the runtime wraps job(), right after this import
WAIT_S = 3.0  # never wait for ever: a wrong guess only loses updates


def _spin_until(done):
    deadline = time.monotonic() + WAIT_S
    while not done() and time.monotonic() < deadline:
        pass  # busy: a CPU in use, as a racing loop would


def _flag_taken(lock):
    if lock.acquire(False):  # free: the other one has not arrived yet
        lock.release()
        return False
    return True


def job(v, num, lock, times):
    if GRADING:
        if num == 1:
            _spin_until(lambda: _flag_taken(lock))
        else:
            lock.acquire()
            try:
                _spin_until(lambda: v.value >= times)
            finally:
                lock.release()
    for _ in range(times):
        v.value += num  # no lock: the race


def multicore(times=10_000):
    lock = mp.Lock()
    v = mp.Value('i', 0)
    p1 = mp.Process(target=job, args=(v, 1, lock, times))
    p2 = mp.Process(target=job, args=(v, 3, lock, times))
    p1.start()
    p2.start()
    p1.join()
    p2.join()
    return v.value


if __name__ == '__main__':
    print(multicore(), 'expected', 4 * 10_000)
