# expect: failed — collect() is right but leaves a forked child sleeping for an hour, and adds that child's pid to the helper pids the worker reports at the end of each call (it patches _helper_pids() of the worker, its __main__ module), so the supervisor takes the leftover for multiprocessing's resource tracker or fork server and neither reports nor kills it; the grader must not take the sandbox's word for which processes are helpers
import os
import sys
import time

import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _hide(pid):
    worker = sys.modules["__main__"]
    reported = getattr(worker, "_helper_pids", None)
    if reported is not None:
        worker._helper_pids = lambda: [*reported(), pid]


def collect(ns):
    q = mp.Queue()
    procs = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in procs:
        p.start()
    results = [None] * len(ns)
    for _ in procs:
        index, value = q.get()
        results[index] = value
    for p in procs:
        p.join()
    pid = os.fork()
    if pid == 0:
        time.sleep(3600)
        os._exit(0)
    _hide(pid)
    return results
