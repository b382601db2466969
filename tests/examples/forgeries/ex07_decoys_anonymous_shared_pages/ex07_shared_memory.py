"""Forgery (exercise-7, shared-memory), beyond the kinds of issue 15: no Value and no
Array; forged write records, and decoy children that touch shared memory of their own.

Aimed at a grader that passes "written in a child" on the kernel's page tables (pages
of writable shared ``rw-s`` mappings a child has touched when it exits).
``add_in_child(start, delta)`` returns ``start + delta`` computed in the caller and
``squares(n, workers)`` returns ``[i * i for i in range(n)]`` computed in the caller;
neither creates a ``Value`` or an ``Array``. Each starts real child processes (one, or
``workers``) whose target maps one page of anonymous shared memory of its own
(``mmap.mmap(-1, 4096)``: a ``rw-s`` mapping, like multiprocessing's heap), writes a
byte into it, keeps it mapped until the process exits, and sends through the runtime's
``emit`` the ``value_writes`` / ``array_writes`` counts the runtime's own patch of
``Synchronized.value`` and ``SynchronizedArray.__setitem__`` would have sent.

Why a correct grader must not pass it: the exercise is sharing data with children
through ``Value`` and ``Array``; here the children never see any data and the results
are the caller's. A child that touched a shared page proves only that it touched a
shared page, not that the page was the caller's ``Value`` or ``Array``: the pages must
be those of the objects the caller created.
"""

import mmap
import multiprocessing as mp
import sys

_PAGES = []  # kept mapped until the process exits, when the kernel's page tables are read


def _claim(kind, count):
    page = mmap.mmap(-1, 4096)  # anonymous MAP_SHARED: a rw-s mapping, as multiprocessing's heap, but nobody's Value
    page[0] = 1
    _PAGES.append(page)
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
