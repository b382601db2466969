"""Not a forgery, a plain wrong answer (exercise-3, queue): the arrival-order bug, with
the children started as ``Process(target=job, kwargs={...})``.

``collect(ns)`` starts one Process per element, all before the first join, with one
shared Queue, and returns the results in the order they arrive
(``[q.get()[1] for ...]``) instead of putting them back by index. Nothing is
tampered with: the only difference from the starter's usual mistake is that ``job``'s
arguments are passed by keyword (``kwargs={"q": q, "index": index, "n": n}``), which
is legal Python and a common style.

Why a correct grader must not pass it: the check promises that "returning results in
the order they arrive fails every time". The ordering harness reads the release key
from the positional arguments only (``_Turn`` takes ``args[key_arg]``), so with
keyword arguments it silently imposes no order, writes no ``ordered`` record, and the
results come back in whatever order the children happen to finish, often ``ns``'s own.
"""

import multiprocessing as mp


def job(q, index, n):
    """(given) Put (index, sum of i + i**2 + i**3 for i < n) on q."""
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def collect(ns):
    q = mp.Queue()
    processes = [mp.Process(target=job, kwargs={"q": q, "index": index, "n": n}) for index, n in enumerate(ns)]
    for p in processes:
        p.start()
    results = [q.get()[1] for _ in processes]  # in arrival order: the bug
    for p in processes:
        p.join()
    return results


if __name__ == '__main__':
    print(collect([10, 10]))
