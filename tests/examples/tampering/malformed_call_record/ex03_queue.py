# expect: failed — collect(ns) raises without computing anything; during collect([]) a child process rewrites calls/0.json, the record of that first call, claiming it returned the right values, with every other field of the wrong type ("output_end": ["a", {}], "t0": "x", "type": [], "traceback": {}) and "t" far in the future; the grader must neither believe a call returned that did not, nor crash on the types
import json
import os
import time

import multiprocessing as mp

_first_ns = []


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    if ns:
        _first_ns[:] = ns
        raise NotImplementedError("collect() is not written yet")
    record = {"status": "returned", "value": [sum(i + i**2 + i**3 for i in range(n)) for n in _first_ns],
              "type": [], "t0": "x", "t": time.monotonic() + 1e6, "output_end": ["a", {}],
              "exception": {"x": 1}, "message": [1], "traceback": {}, "code": "zero"}
    pid = os.fork()
    if pid == 0:
        try:
            with open(os.path.join(os.environ["GRADE_SANDBOX_DIR"], "calls", "0.json"), "w") as file:
                json.dump(record, file)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return []
