# expect: failed — collect() writes 1 MiB files in its working folder until a write fails (the error is not caught), then would return the right answer; the grader's disk budget must stop it ("wrote more than 256 MiB")
import multiprocessing as mp
import os

CAP_BYTES = 1024**3  # never more than 1 GiB, should the budget be missing: the test then fails, the disk stays whole


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _fill():
    chunk = b"\x5a" * 1024**2
    for index in range(CAP_BYTES // len(chunk)):
        with open(os.path.join(os.getcwd(), f"fill_{os.getpid()}_{index}"), "wb") as file:
            file.write(chunk)


def collect(ns):
    _fill()
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
