# expect: failed — collect() walks up /proc from its own pid to the grader (`python -m grader` or `grade`; visible without bubblewrap's PID namespace), replaces its captured stdout/stderr files with symlinks to /proc/<grader pid>/environ and raises; the grader must not show the target of a link as the student's output
import os
import sys

import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _grader_pid():
    """The nearest ancestor that is the grader's command line; None if not in view."""
    pid = os.getpid()
    while pid > 1:
        with open(f"/proc/{pid}/stat") as file:
            stat = file.read()
        pid = int(stat[stat.rfind(")") + 2:].split()[1])
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            argv = file.read().split(b"\0")
        if argv[1:3] == [b"-m", b"grader"] or b"grade" in (os.path.basename(a) for a in argv[:2]):
            return pid
    return None


def collect(ns):
    grader = _grader_pid()
    print("x" * 7_999, flush=True)
    print("y" * 7_999, file=sys.stderr, flush=True)
    if grader is not None:
        folder = os.environ["GRADE_SANDBOX_DIR"]
        for name in ("stdout", "stderr"):
            os.unlink(os.path.join(folder, name))
            os.symlink(f"/proc/{grader}/environ", os.path.join(folder, name))
    raise RuntimeError("something went wrong, see my output")
