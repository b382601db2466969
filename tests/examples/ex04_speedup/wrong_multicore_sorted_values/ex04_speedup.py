# expect: failed — multicore sorts the results by value instead of putting them back in task order (wrong whenever the tasks are not already ascending)
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


def _work_to_queue(q, n):
    q.put(work(n))


def multicore(tasks):
    q = mp.Queue()
    processes = [mp.Process(target=_work_to_queue, args=(q, n)) for n in tasks]
    for p in processes:
        p.start()
    # the children finish in any order, so put the answers back in order
    results = sorted(q.get() for _ in processes)
    for p in processes:
        p.join()
    return results
