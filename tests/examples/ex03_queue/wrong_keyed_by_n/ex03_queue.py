# expect: failed — keys the results by n instead of the index: a repeated n loses a result
import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    q = mp.Queue()
    processes = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in processes:
        p.start()
    by_n = {}
    for _ in processes:
        index, value = q.get()
        by_n[ns[index]] = value
    for p in processes:
        p.join()
    return [by_n[n] for n in sorted(set(ns), key=ns.index)]
