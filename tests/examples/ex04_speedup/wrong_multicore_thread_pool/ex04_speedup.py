# expect: failed — multicore uses a ThreadPoolExecutor: a pool, but of threads in the caller's process, so the timings say it ran in threads (not processes) and why that cannot beat serial
import queue
import threading as td
from concurrent.futures import ThreadPoolExecutor


def work(n):
    return sum(i * i for i in range(n))


def serial(tasks):
    return [work(n) for n in tasks]


def job(q, index, n):
    q.put((index, work(n)))


def threaded(tasks):
    q = queue.Queue()
    threads = [td.Thread(target=job, args=(q, index, n)) for index, n in enumerate(tasks)]
    for t in threads:
        t.start()
    results = [None] * len(tasks)
    for _ in tasks:
        index, value = q.get()
        results[index] = value
    for t in threads:
        t.join()
    return results


def multicore(tasks):
    with ThreadPoolExecutor(max_workers=len(tasks) or 1) as pool:
        return list(pool.map(work, tasks))
