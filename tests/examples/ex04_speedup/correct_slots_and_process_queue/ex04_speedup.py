# expect: passed
"""Exercise 4 — the same work serially, with threads, and with processes."""
import multiprocessing as mp
import threading as td


def work(n):
    return sum(i * i for i in range(n))


def serial(tasks):
    return [work(n) for n in tasks]


def _work_into(results, index, n):
    results[index] = work(n)


def threaded(tasks):
    results = [None] * len(tasks)
    threads = [td.Thread(target=_work_into, args=(results, i, n)) for i, n in enumerate(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _work_to_queue(q, index, n):
    q.put((index, work(n)))


def multicore(tasks):
    q = mp.Queue()
    processes = [mp.Process(target=_work_to_queue, args=(q, i, n)) for i, n in enumerate(tasks)]
    for p in processes:
        p.start()
    results = [None] * len(tasks)
    for _ in processes:
        index, value = q.get()
        results[index] = value
    for p in processes:
        p.join()
    return results
