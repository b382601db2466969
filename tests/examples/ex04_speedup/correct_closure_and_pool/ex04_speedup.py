# expect: passed
import os
import queue
import threading
from multiprocessing import Pool


def work(n):
    return sum(i * i for i in range(n))


def serial(tasks):
    return [work(n) for n in tasks]


def threaded(tasks):
    done = queue.Queue()            # a thread-safe queue is enough for threads

    def run(index, n):              # threads share memory: a closure is fine here
        done.put((index, work(n)))

    threads = []
    for index, n in enumerate(tasks):
        t = threading.Thread(target=run, args=(index, n))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    pairs = sorted(done.get() for _ in tasks)
    return [value for _, value in pairs]


def multicore(tasks):
    if not tasks:
        return []
    workers = max(2, min(len(tasks), os.cpu_count() or 1))
    with Pool(processes=workers) as pool:
        return pool.map(work, tasks, chunksize=1)
