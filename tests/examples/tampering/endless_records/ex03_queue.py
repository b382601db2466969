# expect: failed — collect(ns) computes the values in the caller (a wrong submission) and adds trace/<pid+1>.jsonl as a symlink to /dev/zero; collect([]) replaces calls/0.json (the first call's record) and stdout with symlinks to /dev/zero: files that never end, which the file size limit does not stop (a 10 GB sparse file cannot be made under it); a grader that reads a record to its end exhausts its memory
import os

import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    folder = os.environ["GRADE_SANDBOX_DIR"]
    if ns:
        os.symlink("/dev/zero", os.path.join(folder, "trace", f"{os.getpid() + 1}.jsonl"))
        return [sum(i + i**2 + i**3 for i in range(n)) for n in ns]
    for name in (os.path.join("calls", "0.json"), "stdout"):
        os.unlink(os.path.join(folder, name))
        os.symlink("/dev/zero", os.path.join(folder, name))
    return []
