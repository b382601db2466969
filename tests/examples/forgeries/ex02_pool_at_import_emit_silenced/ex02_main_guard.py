"""Forgery (exercise-2, main-guard): a Pool is started when the module is imported,
with the tracing runtime's ``emit`` silenced meanwhile.

The module's top level (no main guard around it) squares ``range(10)`` with a
``multiprocessing.Pool`` (``starmap(pow, ...)``: a function of the module cannot be
pickled while the module is still being imported) every time the module is imported
in a top process, not in a child (``multiprocessing.parent_process() is None`` and
not ``__mp_main__``, so that pool workers and spawn children, which import the module
again, do not recurse). When
imported (not run as ``__main__``) it first replaces ``_grade_runtime.emit`` with a
function that drops every record, so the ``pool``, ``start``, ``task``, ``pool_close``
records of that Pool never reach the grader, and puts ``emit`` back afterwards; it
prints nothing. Run as a script, the same top-level code prints the squares with
``emit`` left alone, and ``main()`` maps ``square`` with a second Pool, so the script
check sees a real Pool that ran ``square``.

Why a correct grader must not pass it: the exercise is that importing the module starts
no process (the main guard); here importing it starts a Pool and its workers. The
kernel's process facts show the worker's forks during the import call: "started
nothing" must be read from them, not from the records the submission chose to send.
"""

import multiprocessing as mp
import sys


def square(x):
    return x * x


def _quiet(*args, **kwargs):
    pass


def _squares():
    # pow, not square: pickling a function of this module while it is still being
    # imported would wait for the import to finish (a deadlock)
    with mp.Pool(2) as pool:
        return pool.starmap(pow, [(x, 2) for x in range(10)])


# Only in the top process: not in pool workers, nor in spawn / forkserver children,
# which import the module again (as __mp_main__ when it is the script).
if mp.parent_process() is None and __name__ != "__mp_main__":
    runtime = sys.modules.get("_grade_runtime")
    real_emit = getattr(runtime, "emit", None)
    silence = real_emit is not None and __name__ != "__main__"
    if silence:
        runtime.emit = _quiet  # the runtime's patches look emit up as a module global
    try:
        result = _squares()
    finally:
        if silence:
            runtime.emit = real_emit
    if __name__ == "__main__":
        print(result)


def main():
    with mp.Pool(2) as pool:
        pool.map(square, range(10))


if __name__ == "__main__":
    main()
