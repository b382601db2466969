# expect: failed — returns the results in the order they arrive, not in the order of ns
import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    q = mp.Queue()
    processes = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in processes:
        p.start()
    results = [q.get()[1] for _ in processes]
    for p in processes:
        p.join()
    return results
