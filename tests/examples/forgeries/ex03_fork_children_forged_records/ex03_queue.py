"""Forgery (exercise-3, queue): plain ``os.fork`` children that only write records; no
Queue, no ``multiprocessing.Process``; every value computed in the caller.

``collect(ns)`` forks one child per element with ``os.fork``. Each child sends, through
the tracing runtime's ``emit`` (``sys.modules["_grade_runtime"]``), a ``call`` record
of ``job`` (an interval it was alive for) and exits with ``os._exit(0)``; it computes
nothing and puts nothing anywhere. The caller writes, for each child, the ``start``
record ``Process.start`` would have written (the kernel did see the caller fork that
child, so the record agrees with the process facts), then a ``join`` per child (all
after the last start), waits for the children with ``os.waitpid`` and writes a
``joined`` record each. The values are computed in the caller, in the order of ``ns``.

Why a correct grader must not pass it: the exercise is getting results back from
child processes through one Queue; here no result comes from a child, no Queue exists,
and ``job`` never runs. A ``start`` record only proves that the caller forked, not that
it started a ``Process`` running ``job``; a ``call`` record only proves that the child
could write one.
"""

import multiprocessing as mp
import os
import sys
import time


def job(q, index, n):
    """(given) Put (index, sum of i + i**2 + i**3 for i < n) on q."""
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


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


def _forged_children(count, function):
    children = [_fork_claiming(function) for _ in range(count)]
    for pid in children:
        _emit("join", child=pid)
    for pid in children:
        os.waitpid(pid, 0)
        _emit("joined", child=pid, exitcode=0)


def collect(ns):
    _forged_children(len(ns), "job")
    return [sum(i + i**2 + i**3 for i in range(n)) for n in ns]


if __name__ == '__main__':
    print(collect([10, 10]))
