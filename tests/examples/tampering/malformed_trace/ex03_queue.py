# expect: failed — collect() runs its processes one at a time (start, join, start, join: the serialized mistake the exercise teaches) and adds malformed and wrong-typed records to the trace folder: lines that are not JSON or not objects, NaN and infinite times, "t" as a string, a bool or a 30-digit int, events without "ev" or "pid", "child"/"pid"/"count" of the wrong type, pool and shared-memory events without their keys, a join at a time outside every call; the grader must still fail the submission, not crash (a "grader fault") nor pass it
import json
import os
import time

import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _junk(pid, t):
    return ["not json at all", "[1, 2, 3]", '"a string"', "{", json.dumps({"ev": "start", "t": "x"}),
            json.dumps({"ev": "start", "child": "abc", "t": 1e308}),
            '{"ev": "join", "pid": %d, "child": 1, "t": NaN}' % pid,
            '{"ev": "join", "pid": %d, "child": [], "t": -Infinity}' % pid,
            json.dumps({"t": t}), json.dumps({"ev": 5, "t": t}), json.dumps({"ev": "join", "t": True}),
            json.dumps({"ev": "call", "func": "job", "t": t}),
            json.dumps({"ev": "call", "func": "job", "pid": "abc", "t0": "x", "t": t, "main_thread": "no"}),
            json.dumps({"ev": "start", "pid": {}, "child": {"a": 1}, "target": 5, "t": t}),
            json.dumps({"ev": "start", "pid": pid, "t": 10**30}),
            json.dumps({"ev": "array_writes", "pid": pid, "count": "many", "t": t}),
            json.dumps({"ev": "pool", "pid": pid, "t": t}), json.dumps({"ev": "pool_close", "t": t}),
            json.dumps({"ev": "shm_create", "pid": pid, "t": t}), json.dumps({"ev": "task", "t": t, "results": 5}),
            json.dumps({"ev": "join", "pid": pid, "child": pid + 1, "t": -5.0})]


def collect(ns):
    q = mp.Queue()
    results = [None] * len(ns)
    for index, n in enumerate(ns):
        p = mp.Process(target=job, args=(q, index, n))
        p.start()
        i, value = q.get()
        results[i] = value
        p.join()
    folder = os.environ["GRADE_SANDBOX_DIR"]
    for name in (os.getpid(), os.getpid() + 1):
        with open(os.path.join(folder, "trace", f"{name}.jsonl"), "a") as file:
            file.write("\n".join(_junk(os.getpid(), time.monotonic())) + "\n")
    return results
