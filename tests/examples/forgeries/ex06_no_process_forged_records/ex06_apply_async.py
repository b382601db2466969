"""Forgery (exercise-6, apply-async): no Pool, no process at all; the apply_async and
get records are written by hand.

``one(x)`` and ``many(values)`` compute every square in the caller, without ever calling
``job`` (so no traced call of ``job`` runs in the caller either). Before returning they
send, through the tracing runtime's own ``emit`` (found as ``sys.modules["_grade_runtime"]``),
the records a correct run would have produced in the caller: one ``apply_async`` per
value naming ``<module>.job``, then one ``get`` per value, all submissions before the
first get. Nothing else: no ``pool`` record, so no pool has to be seen cleaned up.

Why a correct grader must not pass it: the exercise teaches submitting tasks to a Pool
with ``apply_async``; this submission starts no process, and the only evidence of a
pool is records the caller wrote about itself. ``apply_async``/``get`` records from a
process that created no pool workers (the kernel's process facts show none) prove nothing.
"""

import multiprocessing as mp
import sys


def job(x):
    """(given)"""
    return x * x


def _emit(event, **fields):
    runtime = sys.modules.get("_grade_runtime")
    if runtime is not None:
        runtime.emit(event, **fields)


def _forge(count):
    pool = 0x5EED  # any int: no pool record names it
    for _ in range(count):
        _emit("apply_async", pool=pool, func=f"{__name__}.job")
    for _ in range(count):
        _emit("get")


def one(x):
    _forge(1)
    return x * x


def many(values):
    _forge(len(values))
    return [v * v for v in values]


if __name__ == '__main__':
    print(one(2))
    print(many(range(10)))
