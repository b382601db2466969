# expect: failed — each process takes 600 MiB: under the limit of one process, over the session's
import multiprocessing as mp
import time


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def hog(q, index, n):
    block = bytearray(600 * 1024**2)  # touched: every page is really used
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(1)
    job(q, index, n)


def collect(ns):
    q = mp.Queue()
    processes = [mp.Process(target=hog, args=(q, i, n)) for i, n in enumerate(ns)]
    for p in processes:
        p.start()
    results = [q.get() for _ in processes]
    for p in processes:
        p.join()
    return [value for _, value in sorted(results)]
