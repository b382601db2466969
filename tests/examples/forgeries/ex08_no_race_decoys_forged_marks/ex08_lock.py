"""Forgery (exercise-8, lock), beyond the kinds of issue 15: no race is ever run;
``multicore(times)`` returns ``4 * times`` computed in the caller, and two decoy children
fake the kernel-side evidence of a race.

Aimed at the grader that passes exercise-8 only on kernel facts (weighed spans: a
ballast of CPU between two mark signals the supervisor's tracer sees; "both busy in
``job`` at once"). ``multicore`` makes no shared Value and no Lock. It starts two real
processes (both started before either is joined, then both joined) whose target never
touches a counter: each calls the runtime's own ``_grade_runtime.weighed(_spin, (0.4,),
{})``, sending itself the two mark signals around a busy loop that computes nothing,
so the kernel sees both children "working" at the same moment; then each sends a
``call`` record of ``job`` (without ``weighed``, an older grader, they just sleep).
``job`` itself and the rendezvous never run.

Why a correct grader must not pass it: the exercise is protecting ``v.value += num``
with a Lock while two processes race; nothing is ever incremented in a child. A
weighed span proves that a process burnt CPU between two signals it sent itself
(``signal.pthread_kill`` is open to any code, and so is the runtime's ``weighed``), not
that it ran ``job``; two such spans at once are not a race.
"""

import multiprocessing as mp
import sys
import time


def job(v, num, lock, times):
    for _ in range(times):
        with lock:
            v.value += num


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _idle(num, times):
    t0 = time.monotonic()
    runtime = sys.modules.get("_grade_runtime")
    if runtime is not None:
        weighed = getattr(runtime, "weighed", None)
        if weighed is not None:
            weighed(_spin, (0.4,), {})
        else:
            time.sleep(0.05)
        runtime.emit("call", func="job", t0=t0, t=time.monotonic(), main_thread=True)


def multicore(times=10_000):
    p1 = mp.Process(target=_idle, args=(1, times))
    p2 = mp.Process(target=_idle, args=(3, times))
    p1.start()
    p2.start()
    p1.join()
    p2.join()
    return 4 * times


if __name__ == '__main__':
    print(multicore(), 'expected', 4 * 10_000)
