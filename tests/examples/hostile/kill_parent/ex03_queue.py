# expect: failed — collect() SIGKILLs its parent process (the grader's runner) before returning a correct-looking list; the grader must survive and must not count it as a pass
import multiprocessing as mp
import os
import signal


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


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
    os.kill(os.getppid(), signal.SIGKILL)
    return results
