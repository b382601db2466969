# expect: failed — the target is a function nested inside collect(): fine under fork, but spawn/forkserver must pickle it and fail ("Can't pickle local object 'collect.<locals>.worker'")
import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    q = mp.Queue()

    def worker(index, n):
        job(q, index, n)

    processes = [mp.Process(target=worker, args=(index, n)) for index, n in enumerate(ns)]
    for p in processes:
        p.start()
    results = [None] * len(ns)
    for _ in processes:
        index, value = q.get()
        results[index] = value
    for p in processes:
        p.join()
    return results
