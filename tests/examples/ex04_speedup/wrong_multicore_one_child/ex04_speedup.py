# expect: failed — multicore starts ONE child process that runs every task serially, so nothing runs in parallel
import multiprocessing as mp
import threading as td


def work(n):
    return sum(i * i for i in range(n))


def serial(tasks):
    return [work(n) for n in tasks]


def _work_into(results, index, n):
    results[index] = work(n)


def threaded(tasks):
    results = [None] * len(tasks)
    threads = [td.Thread(target=_work_into, args=(results, i, n)) for i, n in enumerate(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _serial_to_queue(q, tasks):
    q.put(serial(tasks))


def multicore(tasks):
    q = mp.Queue()
    p = mp.Process(target=_serial_to_queue, args=(q, tasks))
    p.start()
    results = q.get()
    p.join()
    return results
