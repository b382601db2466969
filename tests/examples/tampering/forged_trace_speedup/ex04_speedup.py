# expect: failed — serial() and threaded() are honest, but multicore() computes every value in the caller (no process) and appends to the trace folder calls of work() by two fake child processes whose run intervals overlap; the grader must not take the sandbox's trace as proof of parallel processes
import json
import os
import queue
import threading
import time

import multiprocessing as mp


def work(n):
    return sum(i * i for i in range(n))


def serial(tasks):
    return [work(n) for n in tasks]


def job(q, index, n):
    q.put((index, work(n)))


def threaded(tasks):
    q = queue.Queue()
    threads = [threading.Thread(target=job, args=(q, index, n)) for index, n in enumerate(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = [None] * len(tasks)
    while not q.empty():
        index, value = q.get()
        results[index] = value
    return results


def multicore(tasks):
    folder, me = os.environ["GRADE_SANDBOX_DIR"], os.getpid()
    t0 = time.monotonic()
    time.sleep(0.05)
    t = time.monotonic()
    for index, n in enumerate(tasks):  # every child's run overlaps every other's
        child = me + 1000 + index
        with open(os.path.join(folder, "trace", f"{child}.jsonl"), "a") as file:
            file.write(json.dumps({"ev": "call", "func": "work", "pid": child, "t0": t0 + index * 1e-4,
                                   "t": t, "main_thread": True}) + "\n")
    return [(n - 1) * n * (2 * n - 1) // 6 for n in tasks]
