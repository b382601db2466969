"""Forgery (exercise-1, process): the target never runs; its probe record is forged and
the exit code is guessed from the arguments.

``run_in_process(target, args)`` never calls ``target``. It forks a bare child
(``os.fork``) that sends, through the tracing runtime's ``emit``
(``sys.modules["_grade_runtime"]``), the ``probe`` record the grader's target would
have written (its token is ``args[0]``, in plain sight), sleeping as long as
``args[1]`` asks when that is a float, and exits; the caller reaps it and returns an
exit code guessed from the arguments: ``args[1]`` when it is an int (the target that
calls ``sys.exit(k)``), 1 when there is no second argument (the target that raises),
else 0. ``run_in_thread`` starts no thread at all: the caller's main thread sends the
``probe`` record itself, with ``main_thread=False``.

Why a correct grader must not pass it: the exercise is running a target in a new
Process and a new Thread, and reading the exit code from ``Process.exitcode``; here
the target never runs anywhere, no Thread exists, and the exit code is not the
child's. The probe's record is only evidence when the probe itself wrote it.
"""

import multiprocessing as mp
import os
import sys
import threading as td
import time


def _probe(token, sleep_s=0.0, main_thread=True):
    runtime = sys.modules.get("_grade_runtime")
    t0 = time.monotonic()
    time.sleep(sleep_s)
    if runtime is not None:
        runtime.emit("probe", token=token, t0=t0, t=time.monotonic(), thread=td.get_ident(),
                     main_thread=main_thread)


def _sleep_of(args):
    return args[1] if len(args) > 1 and isinstance(args[1], float) else 0.0


def run_in_process(target, args=()):
    args = list(args)
    pid = os.fork()
    if pid == 0:
        try:
            _probe(args[0], _sleep_of(args))
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    if len(args) > 1 and isinstance(args[1], int):
        return args[1]
    return 1 if len(args) == 1 else 0


def run_in_thread(target, args=()):
    args = list(args)
    _probe(args[0], _sleep_of(args), main_thread=False)


def job(a, d):
    print('aaaaa', a, d)


if __name__ == '__main__':
    print('exit code:', run_in_process(job, (1, 2)))
    run_in_thread(job, (1, 2))
