# expect: failed — collect(ns) computes the values in the caller (a wrong submission) and makes its trace file trace/<pid>.jsonl and its stdout sparse files of 10 GB (ftruncate; where the file size limit refuses, EFBIG, as large as the limit allows); collect([]) does the same to calls/0.json, the first call's record; the grader must read a bounded prefix of each, never the whole file
import os
import resource

import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _make_sparse(fd):
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    for size in (10 * 1024**3, limit):
        try:
            os.ftruncate(fd, size)
            return
        except (OSError, ValueError):
            continue


def collect(ns):
    folder = os.environ["GRADE_SANDBOX_DIR"]
    name = f"trace/{os.getpid()}.jsonl" if ns else "calls/0.json"
    fd = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT)
    _make_sparse(fd)
    os.close(fd)
    _make_sparse(1)
    return [sum(i + i**2 + i**3 for i in range(n)) for n in ns]
