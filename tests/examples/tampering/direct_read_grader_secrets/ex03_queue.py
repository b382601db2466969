# expect: failed — no channel trick: collect() reads the grader's /proc/<pid>/environ (found by walking up /proc) and secret.txt next to the session folder ITSELF, prints them and raises; the scrubbed environment means nothing if the sandbox can read the grader's (without a PID namespace and as the same user, or as root, it can)
import os

import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _grader_pid():
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
    paths = [os.path.join(os.path.dirname(os.environ["GRADE_SANDBOX_DIR"]), "secret.txt")]
    if grader is not None:
        paths.append(f"/proc/{grader}/environ")
    for path in paths:
        try:
            with open(path, "rb") as file:
                print(path, file.read(2_000).replace(b"\0", b"\n").decode("utf-8", "replace"))
        except OSError as error:
            print(path, error)
    raise RuntimeError("something went wrong, see my output")
