# expect: passed
"""Exercise 3 — one process per n, one shared Queue, results back in order of ns."""
import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    q = mp.Queue()
    processes = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in processes:
        p.start()
    results = [None] * len(ns)
    for _ in processes:               # read before joining
        index, value = q.get()
        results[index] = value
    for p in processes:
        p.join()
    return results
