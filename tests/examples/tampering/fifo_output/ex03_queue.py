# expect: failed — collect(ns) computes the values in the caller (no child process: a wrong submission); the second call, collect([]), replaces $GRADE_SANDBOX_DIR/stdout, stderr and calls/0.json (the first call's record, written by then) with FIFOs that nobody will ever write to; a grader that open()s them to read blocks forever
import os

import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    if ns:
        return [sum(i + i**2 + i**3 for i in range(n)) for n in ns]
    folder = os.environ["GRADE_SANDBOX_DIR"]
    for name in ("stdout", "stderr", os.path.join("calls", "0.json")):
        path = os.path.join(folder, name)
        os.unlink(path)
        os.mkfifo(path)
    return []
