# expect: failed — multicore() computes every square in the caller (no pool) and appends to the trace folder the records of the Pool.map it did not do: a "pool" of `processes` workers (os.cpu_count() by default), one "start" per pool worker, the job() calls and map tasks in those workers, then "pool_close" and "pool_join"; the grader must not take the sandbox's trace as proof that a pool ran
import json
import os
import time

import multiprocessing as mp


def job(x):
    return x * x


def _append(folder, pid, events):
    with open(os.path.join(folder, "trace", f"{pid}.jsonl"), "a") as file:
        for event in events:
            file.write(json.dumps(dict(event, pid=pid, t=event.get("t", time.monotonic()))) + "\n")


def multicore(values, processes=None):
    if not values:
        return []
    folder, me = os.environ["GRADE_SANDBOX_DIR"], os.getpid()
    pool = 140_000_000 + me
    workers = [me + 1000 + index for index in range(processes or os.cpu_count() or 1)]
    _append(folder, me, [{"ev": "pool", "pool": pool, "processes": len(workers)}]
            + [{"ev": "start", "child": w, "target": "multiprocessing.pool.worker", "name": f"ForkPoolWorker-{i + 1}",
                "daemon": True} for i, w in enumerate(workers)])
    for index, x in enumerate(values):
        worker, t0 = workers[index % len(workers)], time.monotonic()
        _append(folder, worker, [{"ev": "call", "func": "job", "t0": t0, "main_thread": True},
                                 {"ev": "task", "func": f"{__name__}.job", "items": 1, "t0": t0,
                                  "results": ["int"]}])
    _append(folder, me, [{"ev": "pool_close", "pool": pool}, {"ev": "pool_join", "pool": pool}])
    return [x * x for x in values]
