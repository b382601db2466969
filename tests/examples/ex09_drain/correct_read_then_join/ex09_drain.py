# expect: passed
"""Exercise 9 — drain the queue before joining the producers."""
import multiprocessing as mp


def produce(q, index, size):
    q.put((index, [index] * size))


def gather(sizes):
    q = mp.Queue()
    producers = [mp.Process(target=produce, args=(q, i, size)) for i, size in enumerate(sizes)]
    for p in producers:
        p.start()
    out = [None] * len(sizes)
    for _ in producers:          # a producer cannot exit until its data is read
        index, payload = q.get()
        out[index] = payload
    for p in producers:
        p.join()
    return out
