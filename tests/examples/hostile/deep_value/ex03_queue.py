# expect: failed — collect() does the work in child processes but returns the results wrapped in a list nested 5,000 levels deep; the grader must fail it on the value ("failed", a message about the value), not crash on it nor call it tampering
import multiprocessing as mp

DEPTH = 5_000


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
    for _ in range(DEPTH):
        results = [results]
    return results
