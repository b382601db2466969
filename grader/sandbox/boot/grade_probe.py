"""Targets that checks hand to a submission (e.g. ``run_in_process(target)``).

Each spends a ballast of CPU time between two marks the supervisor's tracer sees
(``_grade_runtime.weighed``): the kernel's accounting shows which process and thread
ran it, and when. They also record where and when they ran in the sandbox trace, which
can explain a failure but never makes a pass.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time

import _grade_runtime


def record(token: str, sleep_s: float = 0.0) -> None:
    """Record that this target ran (after sleeping ``sleep_s``, to make waiting visible)."""
    started = time.monotonic()
    _grade_runtime.weighed(time.sleep, (sleep_s,), {})
    _grade_runtime.emit("probe", token=token, t0=started, t=time.monotonic(),
                        thread=threading.get_ident(),
                        main_thread=threading.current_thread() is threading.main_thread())


def exit_with(token: str, code: int) -> None:
    """Record, then leave the process with ``sys.exit(code)``."""
    record(token)
    sys.exit(code)


def fail(token: str) -> None:
    """Record, then raise (a process whose target raises exits with code 1).

    In a child process the traceback Python prints for it goes nowhere: it is the
    grader's doing, not the student's, and a child left running would print it during a
    later call, under another check. Run in the caller (the student's mistake), it shows."""
    record(token)
    if multiprocessing.parent_process() is not None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    raise RuntimeError(f"probe {token} failed on purpose (pid {os.getpid()})")
