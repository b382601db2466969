# expect: passed
import multiprocessing


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    ctx = multiprocessing.get_context()
    q = ctx.Queue()
    workers = []
    for index, n in enumerate(ns):
        w = ctx.Process(target=job, args=(q, index, n), daemon=True)
        w.start()
        workers.append(w)
    by_index = dict(q.get() for _ in workers)   # (index, value) pairs, any order
    for w in reversed(workers):
        w.join()
    q.close()
    q.join_thread()
    return [by_index[i] for i in range(len(ns))]
