"""Forgery (exercise-3, queue), beyond the kinds of issue 15: plain ``os.fork`` children
that fake the kernel-side evidence too; no Queue, no ``multiprocessing.Process``, every
value computed in the caller.

Aimed at the grader that passes exercise-3 "only on kernel facts" (weighed spans, the
exit order of the processes the ordering harness held). ``collect(ns)`` forks one bare
child per element. Each child:

- calls the runtime's own ``_grade_runtime.weighed(lambda: None, (), {})``: it sends
  itself the two mark signals the supervisor's tracer watches, with a ballast of CPU
  time in between, so the kernel charges a "weighed call" to the child although
  ``job`` never runs (any code can send those signals: ``signal.pthread_kill``);
- reads its release position from the runtime's ``_CONFIG["order"]`` and the
  ``current_call`` file, and sends the ``ordered`` record the harness would have
  written, and a ``call`` record of ``job``;
- sleeps in proportion to its position, so the kernel sees the children exit in the
  release order, and exits with ``os._exit(0)``.

The caller writes ``start`` records (it did fork the children), a ``join`` per child
after the last start, reaps them, writes ``joined`` records, and returns the values it
computed itself, in the order of ``ns``.

Why a correct grader must not pass it: no result comes from a child, no Queue exists,
``job`` never runs and the ordering harness never held anything. A weighed span proves
that a process burnt CPU between two signals it sent itself, not that it ran ``job``;
an ``ordered`` record and an exit order that the child chose prove nothing about the
order the grader imposes.
"""

import multiprocessing as mp
import os
import sys
import time


def job(q, index, n):
    """(given) Put (index, sum of i + i**2 + i**3 for i < n) on q."""
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _position(runtime, index):
    """Where ``index`` comes in the grader's release order for this call (else ``index``)."""
    try:
        with open(os.path.join(runtime._DIR, "current_call"), encoding="utf-8") as file:
            call = int(file.read().strip())
        keys = (runtime._CONFIG.get("order") or {})["calls"].get(call)
        return list(keys).index(index)
    except Exception:
        return index


def _child(runtime, index):
    position = _position(runtime, index)
    t0 = time.monotonic()
    weighed = getattr(runtime, "weighed", None)  # a grader without weighed spans: nothing to fake
    if weighed is not None:
        weighed(lambda: None, (), {})  # the kernel charges a ballast of CPU between the marks
    runtime.emit("ordered", position=position, waited_s=0.0, gave_up=False)
    runtime.emit("call", func="job", t0=t0, t=time.monotonic(), main_thread=True)
    time.sleep(0.15 * (position + 1))  # exit in the release order


def collect(ns):
    runtime = sys.modules.get("_grade_runtime")
    children = []
    for index, _ in enumerate(ns):
        pid = os.fork()
        if pid == 0:
            try:
                if runtime is not None:
                    _child(runtime, index)
            finally:
                os._exit(0)
        if runtime is not None:
            runtime.emit("start", child=pid, target=f"{__name__}.job", name=f"Process-{index + 1}", daemon=False)
        children.append(pid)
    if runtime is not None:
        for pid in children:
            runtime.emit("join", child=pid)
    for pid in children:
        os.waitpid(pid, 0)
        if runtime is not None:
            runtime.emit("joined", child=pid, exitcode=0)
    return [sum(i + i**2 + i**3 for i in range(n)) for n in ns]


if __name__ == '__main__':
    print(collect([10, 10]))
