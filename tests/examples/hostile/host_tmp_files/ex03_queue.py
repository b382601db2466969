# expect: passed or failed — collect() is right, but first writes 40 files of 1 MiB into the machine's /tmp and /var/tmp (outside its session folder); wherever the walls let it, whatever it wrote there must be gone after grading
import multiprocessing as mp
import os

MARKER = "000000000000000000"  # the test writes its run's marker here


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _litter():
    for folder in ("/tmp", "/var/tmp"):
        for number in range(20):
            with open(os.path.join(folder, f"litter-{MARKER}-{os.getpid()}-{number}"), "wb") as file:
                file.write(b"x" * 1024**2)
        os.makedirs(os.path.join(folder, f"litter-{MARKER}-{os.getpid()}-dir", "deeper"), exist_ok=True)


def collect(ns):
    _litter()  # under Landlock or bubblewrap's read-only view this raises: the walls refuse it
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
