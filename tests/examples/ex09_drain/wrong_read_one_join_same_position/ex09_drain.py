# expect: timeout — reads one result, then joins the process at the same position: that process may still hold its payload
import multiprocessing as mp


def produce(q, index, size):
    q.put((index, [index] * size))


def gather(sizes):
    q = mp.Queue()
    processes = [mp.Process(target=produce, args=(q, i, size)) for i, size in enumerate(sizes)]
    for p in processes:
        p.start()
    results = [None] * len(sizes)
    for p in processes:
        index, payload = q.get()
        results[index] = payload
        p.join()
    return results
