"""Forgery (exercise-7, shared-memory): no Value and no Array; forged write records.

``add_in_child(start, delta)`` returns ``start + delta`` computed in the caller and
``squares(n, workers)`` returns ``[i * i for i in range(n)]`` computed in the caller;
neither creates any shared memory. Each starts real child processes (one for
``add_in_child``, ``workers`` for ``squares``), but their target writes nothing
anywhere: it only sends, through the tracing runtime's ``emit``
(``sys.modules["_grade_runtime"]``), the ``value_writes`` / ``array_writes`` counts the
runtime's own patch of ``Synchronized.value`` and ``SynchronizedArray.__setitem__``
would have sent.

Why a correct grader must not pass it: the exercise is sharing data with children
through ``Value`` and ``Array`` (and choosing the type code); here the children never
see any data and the results are the caller's. A write count is only evidence when it
comes from the runtime's patch of a shared object that exists.
"""

import multiprocessing as mp
import sys


def _claim(kind, count):
    runtime = sys.modules.get("_grade_runtime")
    if runtime is not None and count:
        runtime.emit(kind, count=count)


def add(v, delta):
    with v.get_lock():
        v.value += delta


def fill(array, indexes):
    for i in indexes:
        array[i] = i * i


def _run(processes):
    for p in processes:
        p.start()
    for p in processes:
        p.join()


def add_in_child(start, delta):
    _run([mp.Process(target=_claim, args=("value_writes", 1))])
    return start + delta


def squares(n, workers=2):
    _run([mp.Process(target=_claim, args=("array_writes", len(range(k, n, workers)))) for k in range(workers)])
    return [i * i for i in range(n)]


if __name__ == '__main__':
    print(add_in_child(3.14, 0.5))
    print(squares(10))
