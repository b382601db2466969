# expect: timeout — every producer is joined before the queue is read; a child cannot exit while its large payload is still in the pipe, so join() waits forever (deadlock)
import multiprocessing as mp


def produce(q, index, size):
    q.put((index, [index] * size))


def gather(sizes):
    q = mp.Queue()
    ps = [mp.Process(target=produce, args=(q, i, s)) for i, s in enumerate(sizes)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    results = [None] * len(sizes)
    for _ in ps:
        index, payload = q.get()
        results[index] = payload
    return results
