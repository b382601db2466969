# expect: failed — returns the (index, payload) tuples from the queue, sorted, instead of just the payload lists
import multiprocessing as mp


def produce(q, index, size):
    q.put((index, [index] * size))


def gather(sizes):
    q = mp.Queue()
    ps = [mp.Process(target=produce, args=(q, i, s)) for i, s in enumerate(sizes)]
    for p in ps:
        p.start()
    items = [q.get() for _ in ps]
    for p in ps:
        p.join()
    return sorted(items)
