# expect: failed — multicore uses threads, so all the work runs in the caller's process (one core, under the GIL)
import threading


def work(n):
    return sum(i * i for i in range(n))


def serial(tasks):
    return [work(n) for n in tasks]


def _work_into(results, index, n):
    results[index] = work(n)


def threaded(tasks):
    results = [None] * len(tasks)
    threads = [threading.Thread(target=_work_into, args=(results, i, n)) for i, n in enumerate(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def multicore(tasks):
    # "parallel" version
    results = [None] * len(tasks)
    workers = [threading.Thread(target=_work_into, args=(results, i, n)) for i, n in enumerate(tasks)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return results
