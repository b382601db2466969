# expect: failed — collect() starts an extra daemon Process that sleeps for an hour and is never joined; the answer is right but a child is still alive when collect() returns
import multiprocessing as mp
import time


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _nap():
    time.sleep(3600)


def collect(ns):
    sleeper = mp.Process(target=_nap, daemon=True)
    sleeper.start()
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
