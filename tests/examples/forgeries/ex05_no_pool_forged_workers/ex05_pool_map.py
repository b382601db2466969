"""Forgery (exercise-5, pool-map): no Pool; forged pool-worker and task records.

``multicore(values, processes)`` squares every value in the caller. To look like a
``Pool(processes)``, it forks ``processes`` bare children (``os.fork``; ``os.cpu_count()``
for ``None``) and writes, through the tracing runtime's ``emit``
(``sys.modules["_grade_runtime"]``), a ``pool`` record, one ``start`` record per child
naming ``multiprocessing.pool.worker`` as its target (the kernel did see the caller fork
each of them), and at the end ``pool_close`` and ``pool_join``. Each child, which runs
nothing of the exercise, sends one ``call`` record of ``job`` per value of its share and
a ``task`` record for its "chunk", then exits.

Why a correct grader must not pass it: the exercise is ``Pool.map`` with the right
number of workers, closed and joined; here no Pool exists, ``job`` never runs and every
value is computed in the caller. A "pool worker" is a process a Pool started (forked
by the pool's own code, running ``multiprocessing.pool.worker``), not any child the
caller says is one; a ``task`` record is only evidence when the pool's worker loop
wrote it.
"""

import multiprocessing as mp
import os
import sys
import time

POOL_WORKER = "multiprocessing.pool.worker"


def job(x):
    """(given)"""
    return x * x


def _emit(event, **fields):
    runtime = sys.modules.get("_grade_runtime")
    if runtime is not None:
        runtime.emit(event, **fields)


def _fake_worker(share, function):
    pid = os.fork()
    if pid == 0:
        try:
            started = time.monotonic()
            for _ in share:
                t0 = time.monotonic()
                _emit("call", func=function, t0=t0, t=time.monotonic(), main_thread=True)
            if share:
                _emit("task", func=f"{__name__}.{function}", items=len(share), t0=started, t=time.monotonic(),
                      results=["int"] * min(len(share), 100))
        finally:
            os._exit(0)
    _emit("start", child=pid, target=POOL_WORKER, name=f"ForkPoolWorker-{pid}", daemon=True)
    return pid


def fake_pool_map(function, values, processes):
    processes = processes or os.cpu_count() or 1
    pool = 0x5EED + processes
    _emit("pool", pool=pool, processes=processes)
    workers = [_fake_worker(values[k::processes], function) for k in range(processes)]
    _emit("pool_close", pool=pool)
    _emit("pool_join", pool=pool)
    for pid in workers:
        os.waitpid(pid, 0)


def multicore(values, processes=None):
    values = list(values)
    if not values:
        return []
    fake_pool_map("job", values, processes)
    return [x * x for x in values]


if __name__ == '__main__':
    print(multicore(range(10), processes=3))
