# expect: failed — a Manager().Queue() starts the manager's server process besides the one process per size
import multiprocessing as mp


def produce(q, index, size):
    """(given) Put (index, [index] * size) on q."""
    q.put((index, [index] * size))


def gather(sizes):
    with mp.Manager() as manager:
        q = manager.Queue()
        processes = [mp.Process(target=produce, args=(q, index, size)) for index, size in enumerate(sizes)]
        for p in processes:
            p.start()
        results = [None] * len(processes)
        for _ in processes:
            index, data = q.get()
            results[index] = data
        for p in processes:
            p.join()
        return results
