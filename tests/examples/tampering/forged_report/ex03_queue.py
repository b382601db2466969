# expect: failed — collect(ns) is right but leaves a forked child sleeping (a leftover process, which fails the exercise); collect([]) then writes its own record calls/1.json, writes a fake supervisor report ({"calls": [...], "leaks": [] ...}: every call returned, nothing left running) into the supervisor's stdout through /proc/<ppid>/fd/1, SIGKILLs the supervisor before it can print the real one, and exits; the grader must not take a report the sandbox could have written
import json
import os
import signal
import time

import multiprocessing as mp

_started = []


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _correct(ns):
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


def collect(ns):
    now = time.monotonic()
    if ns:
        _started.append(now)
        results = _correct(ns)
        if os.fork() == 0:
            time.sleep(3600)
            os._exit(0)
        return results
    folder, supervisor = os.environ["GRADE_SANDBOX_DIR"], os.getppid()
    with open(os.path.join(folder, "calls", "1.json"), "w") as file:
        json.dump({"status": "returned", "value": [], "type": "list", "t0": now, "t": now,
                   "output_end": [os.fstat(1).st_size, os.fstat(2).st_size]}, file)
    calls = [{"index": 0, "t0": _started[0], "worker_t0": _started[0], "t": now - 0.001, "leaks": []},
             {"index": 1, "t0": now, "worker_t0": now, "t": now + 0.001, "leaks": []}]
    report = {"calls": calls, "worker_exit": 0, "timeout": None, "error": None,
              "worker_pid": os.getpid(), "killed_at_end": 0}
    fd = os.open(f"/proc/{supervisor}/fd/1", os.O_WRONLY)
    os.write(fd, json.dumps(report).encode())
    os.close(fd)
    os.kill(supervisor, signal.SIGKILL)
    os._exit(0)
