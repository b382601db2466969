# expect: failed — collect() is right but leaves two processes sleeping for an hour, started as `python -c "from multiprocessing.resource_tracker import main ..."` and `python -c "from multiprocessing.forkserver import main ..."`: the command lines the grader recognises multiprocessing's helpers by (its hang summary leaves them out); the grader must still report them as leftovers and kill them
import subprocess
import sys

import multiprocessing as mp

DISGUISES = ("from multiprocessing.resource_tracker import main\nimport time\ntime.sleep(3600)",
             "from multiprocessing.forkserver import main\nimport time\ntime.sleep(3600)")


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
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
    for code in DISGUISES:
        subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)
    return results
