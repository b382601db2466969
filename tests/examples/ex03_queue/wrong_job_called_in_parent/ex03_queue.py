# expect: failed — job() is called directly in the caller; no child process is ever started
import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    q = mp.Queue()
    for index, n in enumerate(ns):
        job(q, index, n)
    results = [None] * len(ns)
    for _ in ns:
        index, value = q.get()
        results[index] = value
    return results
