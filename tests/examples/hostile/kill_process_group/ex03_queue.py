# expect: failed — collect() SIGKILLs its whole process group (itself and whatever shares the group, possibly the grader); no result is returned
import multiprocessing as mp
import os
import signal


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    os.killpg(os.getpgid(0), signal.SIGKILL)
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
    return results
