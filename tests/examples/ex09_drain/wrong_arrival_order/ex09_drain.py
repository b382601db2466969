# expect: failed — reads before joining, but returns the payloads in the order they arrive
import multiprocessing as mp


def produce(q, index, size):
    q.put((index, [index] * size))


def gather(sizes):
    q = mp.Queue()
    processes = [mp.Process(target=produce, args=(q, i, size)) for i, size in enumerate(sizes)]
    for p in processes:
        p.start()
    results = [q.get()[1] for _ in processes]
    for p in processes:
        p.join()
    return results
