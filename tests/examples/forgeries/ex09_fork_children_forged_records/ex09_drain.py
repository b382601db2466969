"""Forgery (exercise-9, drain): plain ``os.fork`` children that only write records; no
Queue, no ``multiprocessing.Process``; every payload built in the caller.

``gather(sizes)`` forks one child per size with ``os.fork``. Each child sends, through
the tracing runtime's ``emit`` (``sys.modules["_grade_runtime"]``), a ``call`` record
of ``produce`` and exits with ``os._exit(0)``, having produced nothing. The caller
writes a ``start`` record per child (it did fork them, so the record agrees with the
kernel's process facts), a ``join`` per child after the last start, reaps them with
``os.waitpid`` and writes a ``joined`` record each. The lists are built in the caller,
so no payload ever crosses a pipe and nothing can hang.

Why a correct grader must not pass it: the exercise is draining a Queue of large
payloads before joining the producers; here there is no Queue, no payload leaves a
child, and ``produce`` never runs. Forked children that write a ``call`` record of
``produce`` are not processes that produced anything.
"""

import multiprocessing as mp
import os
import sys
import time


def produce(q, index, size):
    """(given) Put (index, [index] * size) on q."""
    q.put((index, [index] * size))


def _emit(event, **fields):
    runtime = sys.modules.get("_grade_runtime")
    if runtime is not None:
        runtime.emit(event, **fields)


def _fork_claiming(function):
    pid = os.fork()
    if pid == 0:
        try:
            t0 = time.monotonic()
            time.sleep(0.02)
            _emit("call", func=function, t0=t0, t=time.monotonic(), main_thread=True)
        finally:
            os._exit(0)
    _emit("start", child=pid, target=f"{__name__}.{function}", name=f"Process-{pid}", daemon=False)
    return pid


def gather(sizes):
    children = [_fork_claiming("produce") for _ in sizes]
    for pid in children:
        _emit("join", child=pid)
    for pid in children:
        os.waitpid(pid, 0)
        _emit("joined", child=pid, exitcode=0)
    return [[index] * size for index, size in enumerate(sizes)]


if __name__ == '__main__':
    print([len(r) for r in gather([10, 20])])
