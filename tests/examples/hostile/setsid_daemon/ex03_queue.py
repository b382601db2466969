# expect: failed — collect() leaves a double-forked daemon (new session via setsid) sleeping for an hour; the answer is right but a process is left running, and the grader must find and kill it
import multiprocessing as mp
import os
import time


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _spawn_daemon():
    pid = os.fork()
    if pid == 0:                       # child
        try:
            os.setsid()                # leave the grader's session and process group
            if os.fork() == 0:         # grandchild: orphaned, reparented away from us
                time.sleep(3600)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)                 # reap the intermediate child


def collect(ns):
    _spawn_daemon()
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
