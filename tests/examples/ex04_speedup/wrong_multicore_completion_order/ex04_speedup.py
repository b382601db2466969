# expect: failed — multicore() returns the results in the order the processes finish, not in task order
import multiprocessing as mp
import threading


def work(n):
    return sum(i * i for i in range(n))


def serial(tasks):
    return [work(n) for n in tasks]


def threaded(tasks):
    results = [None] * len(tasks)

    def run(index, n):
        results[index] = work(n)

    threads = [threading.Thread(target=run, args=(i, n)) for i, n in enumerate(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def put_work(q, n):
    q.put(work(n))


def multicore(tasks):
    q = mp.Queue()
    processes = [mp.Process(target=put_work, args=(q, n)) for n in tasks]
    for p in processes:
        p.start()
    results = [q.get() for _ in processes]
    for p in processes:
        p.join()
    return results
