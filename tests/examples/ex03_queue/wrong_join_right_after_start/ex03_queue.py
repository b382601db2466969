# expect: failed — each process is joined right after it is started, so the children run one after another instead of all at once
import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    q = mp.Queue()
    for index, n in enumerate(ns):
        p = mp.Process(target=job, args=(q, index, n))
        p.start()
        p.join()
    results = [None] * len(ns)
    for _ in ns:
        index, value = q.get()
        results[index] = value
    return results
