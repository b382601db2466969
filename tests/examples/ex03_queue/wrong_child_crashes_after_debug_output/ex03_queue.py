# expect: failed — the first child passes n as a float, so job() raises in that child and collect() gives up waiting; the output shown is the end of what was printed (cut at a line boundary, with a note) and the child's traceback without the grader's own frames
import multiprocessing as mp
import queue


def job(q, index, n):
    res = sum(i + i**2 + i**3 for i in range(n))
    q.put((index, res))


def start(q, index, n):
    job(q, index, float(n) if index == 0 else n)


def collect(ns):
    for step in range(100):
        print(f"debug: collect() is getting ready, step {step:03d} of 100")
    q = mp.Queue()
    processes = [mp.Process(target=start, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in processes:
        p.start()
    results = [None] * len(ns)
    try:
        for _ in ns:
            index, value = q.get(timeout=3)
            results[index] = value
    finally:
        for p in processes:
            p.join()
    return results
