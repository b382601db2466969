"""Exercise 3 - Queue: reference solution.

Start every process first so they run side by side, read one result per
process from the shared queue (before joining, so a large result can never
block a child's exit), put each result at its index, then join.
"""
import multiprocessing as mp


def job(q, index, n):
    """(given) Put (index, sum of i + i**2 + i**3 for i < n) on q."""
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    q = mp.Queue()
    processes = [mp.Process(target=job, args=(q, index, n))
                 for index, n in enumerate(ns)]
    for p in processes:
        p.start()
    results = [None] * len(processes)
    for _ in processes:           # one message per child, in finishing order
        index, res = q.get()
        results[index] = res
    for p in processes:
        p.join()
    return results


if __name__ == '__main__':
    print(collect([10, 10]))
