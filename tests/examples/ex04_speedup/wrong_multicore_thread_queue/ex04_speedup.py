# expect: timeout — multicore() passes a queue.Queue (a thread queue) to processes: each child puts into its own copy (fork), or it cannot be pickled (spawn, forkserver)
import multiprocessing as mp
import queue
import threading as td


def work(n):
    """(given) CPU-bound work."""
    return sum(i * i for i in range(n))


def serial(tasks):
    """(given) Run every task in turn, in this thread."""
    return [work(n) for n in tasks]


def job(q, index, n):
    """Put (index, work(n)) on q; works with a thread queue or a process queue."""
    q.put((index, work(n)))


def threaded(tasks):
    q = queue.Queue()
    threads = [td.Thread(target=job, args=(q, index, n)) for index, n in enumerate(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = [None] * len(tasks)
    for _ in tasks:
        index, res = q.get()
        results[index] = res
    return results


def multicore(tasks):
    q = queue.Queue()
    workers = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(tasks)]
    for w in workers:
        w.start()
    results = [None] * len(tasks)
    for _ in tasks:
        index, res = q.get()
        results[index] = res
    for w in workers:
        w.join()
    return results
