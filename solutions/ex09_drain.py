"""Exercise 9 - draining queues: reference solution.

Read exactly one message per child first; a child can finish flushing its
(large) message into the pipe only while the parent is reading. Once every
message is in hand, the children can exit, and joining them cannot block.
"""
import multiprocessing as mp


def produce(q, index, size):
    """(given) Put (index, [index] * size) on q."""
    q.put((index, [index] * size))


def gather(sizes):
    q = mp.Queue()
    processes = [mp.Process(target=produce, args=(q, index, size))
                 for index, size in enumerate(sizes)]
    for p in processes:
        p.start()
    results = [None] * len(processes)
    for _ in processes:              # drain the queue first ...
        index, data = q.get()
        results[index] = data
    for p in processes:              # ... then join
        p.join()
    return results


if __name__ == '__main__':
    print([len(r) for r in gather([10, 20])])
