# expect: failed — collect() computes every value in the caller (no child process, no queue) and appends to the trace folder the records of the run it did not do: one "start" per element by the caller, then per fake child a "run", a call of job() and a "run_end" in trace/<child>.jsonl, then a "join"/"joined" per child; the grader must not take the sandbox's trace as proof that child processes ran
import json
import os
import time

import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _append(folder, pid, events):
    with open(os.path.join(folder, "trace", f"{pid}.jsonl"), "a") as file:
        for event in events:
            file.write(json.dumps(dict(event, pid=pid, t=event.get("t", time.monotonic()))) + "\n")


def _forge(count):
    folder, me = os.environ["GRADE_SANDBOX_DIR"], os.getpid()
    children = [me + 1000 + index for index in range(count)]
    _append(folder, me, [{"ev": "start", "child": child, "target": f"{__name__}.job", "name": f"Process-{i + 1}",
                          "daemon": False} for i, child in enumerate(children)])
    for child in children:
        t0 = time.monotonic()
        _append(folder, child, [{"ev": "run", "target": f"{__name__}.job", "t": t0},
                                {"ev": "call", "func": "job", "t0": t0, "main_thread": True},
                                {"ev": "run_end"}])
    for child in children:
        _append(folder, me, [{"ev": "join", "child": child}, {"ev": "joined", "child": child, "exitcode": 0}])


def collect(ns):
    _forge(len(ns))
    return [sum(i + i**2 + i**3 for i in range(n)) for n in ns]
