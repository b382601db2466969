# expect: passed — collect() makes a folder tree 3,000 levels deep in its working folder (deeper than a path can name), then returns the right answer; making folders is no error, but the grader must remove the tree afterwards and answer in time
import multiprocessing as mp
import os

DEPTH = 3_000
_trees = []  # one tree per call, each under a name of its own


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _deep_tree():
    descriptor = os.open(os.getcwd(), os.O_RDONLY | os.O_DIRECTORY)
    try:
        name = f"deep_{os.getpid()}_{len(_trees)}"
        _trees.append(name)
        for _ in range(DEPTH):  # each level made relative to the last
            os.mkdir(name, dir_fd=descriptor)
            deeper = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor, name = deeper, "d"
        os.close(os.open("bottom", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=descriptor))
    finally:
        os.close(descriptor)


def collect(ns):
    _deep_tree()
    q = mp.Queue()
    procs = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in procs:
        p.start()
    results = [None] * len(ns)
    for _ in procs:
        index, value = q.get()
        results[index] = value
    for p in procs:
        p.join()
    return results
