"""Forgery (exercise-2, main-guard), beyond the kinds of issue 15: no Pool; forged
pool-worker and task records, and the kernel-side evidence of the pool's work faked too.

Aimed at the grader that passes the script check only on kernel facts (every pool
task item weighed: a ballast of CPU between two mark signals the supervisor's tracer
sees, in processes the script's process started). Run as a script, under a proper main
guard, the module prints the ten squares computed in the script's own process. It
forks two bare children (``os.fork``) and writes, through the runtime's ``emit``, a
``pool`` record, a ``start`` record per child naming ``multiprocessing.pool.worker``,
then ``pool_close`` and ``pool_join``. Each child calls the runtime's own
``_grade_runtime.weighed(lambda: None, (), {}, 2 * items)``: it sends itself the two
mark signals around ten ballasts of CPU that compute nothing, so the kernel charges
"ten task items' worth" of weighed CPU to the "workers"; then it sends a ``task`` record
claiming it ran ``square`` over five items, and exits.

Why a correct grader must not pass it: no Pool exists and ``square`` never runs in a
child. A weighed span proves that a process burnt CPU between two signals it sent
itself (``signal.pthread_kill`` is open to any code, and so is the runtime's
``weighed``), not that a pool worker ran ``square``.
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
            runtime = sys.modules.get("_grade_runtime")
            if getattr(runtime, "weighed", None) is not None:
                runtime.weighed(lambda: None, (), {}, 2 * items)
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
