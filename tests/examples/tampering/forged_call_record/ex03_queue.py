# expect: failed — collect(ns) starts one process per element (job() really runs in each child, so the trace is honest) but never collects a result and raises; collect([]) then rewrites calls/0.json, the record of the first call, as {"status": "returned", "value": <the right values, computed in the caller>}: a correct-looking record for a call that raised; the grader must not take the sandbox's word for what a call returned
import json
import os

import multiprocessing as mp

_first_ns = []


def job(q, index, n):
    pass  # the values never come back through the queue


def collect(ns):
    if ns:
        _first_ns[:] = ns
        q = mp.Queue()
        procs = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        raise RuntimeError("no result came back")
    path = os.path.join(os.environ["GRADE_SANDBOX_DIR"], "calls", "0.json")
    with open(path) as file:
        record = json.load(file)  # keep the worker's own times and output offsets
    record.update(status="returned", type="list",
                  value=[sum(i + i**2 + i**3 for i in range(n)) for n in _first_ns])
    with open(path, "w") as file:
        json.dump(record, file)
    return []
