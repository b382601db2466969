# expect: failed — collect() creates 20,000 empty files in its working folder (an error is not caught), then would return the right answer; the grader's budget of files must stop it ("wrote more than ... files and folders")
import multiprocessing as mp
import os

FILES = 20_000


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    folder = os.open(os.getcwd(), os.O_RDONLY | os.O_DIRECTORY)
    try:
        for index in range(FILES):
            os.close(os.open(f"empty_{os.getpid()}_{index}", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=folder))
    finally:
        os.close(folder)
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
