"""Forgery (exercise-2, main-guard): no Pool; forged pool-worker and task records.

Run as a script, under a proper main guard, the module prints the ten squares
computed in the script's own process. To look like ``Pool().map(square, range(10))``
it forks two bare children (``os.fork``) and writes, through the tracing runtime's
``emit`` (``sys.modules["_grade_runtime"]``, installed by ``sitecustomize`` in the
script's interpreter too), a ``pool`` record, a ``start`` record per child naming
``multiprocessing.pool.worker``, then ``pool_close`` and ``pool_join``; each child sends
a ``task`` record claiming it ran ``square`` over five items, and exits.

Why a correct grader must not pass it: the check says the ten squares must be
"computed by ``square()`` in the workers of a ``multiprocessing.Pool`` (printing the
right list is not enough)"; here no Pool exists and ``square`` never runs in a child.
The grader must not take task records that a bare fork wrote for pool work.
"""

import multiprocessing as mp
import os
import sys
import time

POOL_WORKER = "multiprocessing.pool.worker"


def square(x):
    return x * x


def _emit(event, **fields):
    runtime = sys.modules.get("_grade_runtime")
    if runtime is not None:
        runtime.emit(event, **fields)


def _fake_worker(items):
    pid = os.fork()
    if pid == 0:
        try:
            t0 = time.monotonic()
            _emit("task", func=f"{__name__}.square", items=items, t0=t0, t=time.monotonic(),
                  results=["int"] * items)
        finally:
            os._exit(0)
    _emit("start", child=pid, target=POOL_WORKER, name=f"ForkPoolWorker-{pid}", daemon=True)
    return pid


def main():
    pool = 0x5EED
    _emit("pool", pool=pool, processes=2)
    workers = [_fake_worker(5), _fake_worker(5)]
    _emit("pool_close", pool=pool)
    _emit("pool_join", pool=pool)
    for pid in workers:
        os.waitpid(pid, 0)
    print([x * x for x in range(10)])


if __name__ == "__main__":
    main()
