"""Exercise 4 - speed-up: reference solution.

``threaded`` runs one thread per task (same process, so the GIL serialises
the work); ``multicore`` runs one process per task, each with its own
interpreter, so CPU-bound tasks really run in parallel.
"""
import multiprocessing as mp
import queue
import threading as td
import time


def work(n):
    """(given) CPU-bound work."""
    return sum(i * i for i in range(n))


def serial(tasks):
    """(given) Run every task in turn, in this thread."""
    return [work(n) for n in tasks]


def job(q, index, n):
    """Put (index, work(n)) on q; works with a thread queue or a process queue."""
    q.put((index, work(n)))


def _gather(q, count):
    """Read ``count`` (index, value) pairs from q; return the values by index."""
    results = [None] * count
    for _ in range(count):
        index, res = q.get()
        results[index] = res
    return results


def threaded(tasks):
    q = queue.Queue()
    threads = [td.Thread(target=job, args=(q, index, n))
               for index, n in enumerate(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return _gather(q, len(threads))


def multicore(tasks):
    q = mp.Queue()
    processes = [mp.Process(target=job, args=(q, index, n))
                 for index, n in enumerate(tasks)]
    for p in processes:
        p.start()                              # all run at the same time
    results = _gather(q, len(processes))       # read before joining
    for p in processes:
        p.join()
    return results


if __name__ == '__main__':
    tasks = [3_000_000] * 2
    for f in (serial, threaded, multicore):
        st = time.perf_counter()
        f(tasks)
        print(f'{f.__name__:10s} {time.perf_counter() - st:.2f} s')
