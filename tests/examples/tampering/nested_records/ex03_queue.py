# expect: failed — collect(ns) computes the values in the caller (a wrong submission) and appends to its trace a line of a million "[" (one megabyte, well under the file size limit); collect([]) replaces calls/0.json with 200,000 nested objects; a JSON parser that recurses raises RecursionError (not a ValueError) on them, and the grader must not crash
import os

import multiprocessing as mp


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    folder = os.environ["GRADE_SANDBOX_DIR"]
    if ns:
        with open(os.path.join(folder, "trace", f"{os.getpid()}.jsonl"), "a") as file:
            file.write("[" * 1_000_000 + "\n")
        return [sum(i + i**2 + i**3 for i in range(n)) for n in ns]
    with open(os.path.join(folder, "calls", "0.json"), "w") as file:
        file.write('{"status": "returned", "value": ' + '{"a": ' * 200_000 + "1" + "}" * 200_001)
    return []
