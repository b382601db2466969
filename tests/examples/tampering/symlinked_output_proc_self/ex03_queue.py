# expect: failed — collect() prints, then replaces its captured output files ($GRADE_SANDBOX_DIR/stdout and stderr) with symlinks to /proc/self/environ and raises; a grader that opens those files by name after the run follows the links and shows ITS OWN environment (tokens, secrets) as the student's output, under bubblewrap too (the session folder is the same folder on both sides)
import os
import sys

import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _replace_output_files(target):
    folder = os.environ["GRADE_SANDBOX_DIR"]
    print("x" * 7_999, flush=True)  # the worker measures these 8,000 bytes: the window shown
    print("y" * 7_999, file=sys.stderr, flush=True)
    for name in ("stdout", "stderr"):
        path = os.path.join(folder, name)
        os.unlink(path)  # our fd 1 and 2 still write to the old files
        os.symlink(target, path)


def collect(ns):
    _replace_output_files("/proc/self/environ")  # "self" is whoever reads the link
    raise RuntimeError("something went wrong, see my output")
