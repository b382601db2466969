# expect: failed — collect() replaces its captured stdout file with a symlink to a file outside the sandbox (secret.txt next to the session folder, in the grader's TMPDIR) and its stderr file with one to /proc/self/cwd/solutions/ex03_queue.py (the grader's working directory is the course: the reference solution), then raises; neither file is visible inside bubblewrap, but the grader reads the links outside it
import os
import sys

import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    folder = os.environ["GRADE_SANDBOX_DIR"]
    targets = {"stdout": os.path.join(os.path.dirname(folder), "secret.txt"),
               "stderr": "/proc/self/cwd/solutions/ex03_queue.py"}
    print("x" * 7_999, flush=True)
    print("y" * 7_999, file=sys.stderr, flush=True)
    for name, target in targets.items():
        os.unlink(os.path.join(folder, name))
        os.symlink(target, os.path.join(folder, name))
    raise RuntimeError("something went wrong, see my output")
