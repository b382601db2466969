"""The kernel's facts a check may pass on (``Observed``): read from real sessions, where
the submission can only lie in its records, and computed on hand-made facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.check import WEIGHED_SHARE, ballast_cpu_s
from grader.sandbox import Call, SessionSpec, run_session
from grader.sandbox.trace import Observed, SeenProcess, Span

SUBMISSION = '''
import multiprocessing as mp, mmap, os, sys, threading, time

def job(x):
    return x * x

def in_children(values):
    with mp.Pool(2) as pool:
        return pool.map(job, values, chunksize=1)

def in_caller(values):
    return [job(x) for x in values]

def around_the_wrapper(values):
    return [job.__wrapped__(x) for x in values]

def forged_span_in_caller():
    runtime = sys.modules["_grade_runtime"]
    runtime.emit("call", func="job", t0=time.monotonic(), t=time.monotonic(), main_thread=True)
    return 0

def in_a_thread(x):
    out = []
    t = threading.Thread(target=lambda: out.append(job(x)))
    t.start()
    t.join()
    return out[0]

def exits_with(code):
    p = mp.Process(target=os._exit, args=(code,))
    p.start()
    p.join()
    return p.exitcode

def touches(which):
    shared = mp.Array("i", 100)
    def child():
        if which == "callers":
            shared[3] = 9
        elif which == "own":
            mmap.mmap(-1, 4096)[0] = 1
    p = mp.Process(target=child)
    p.start()
    p.join()
    return shared[3]
'''


@pytest.fixture(scope="module")
def submission(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kernel") / "mod.py"
    path.write_text(SUBMISSION)
    return path


def outcomes(submission: Path, *calls: Call, **spec):
    result = run_session(SessionSpec("mod", submission, "fork", calls, 10.0, traced=("job",), weighed=("job",),
                                     **spec))
    return {name: result[name] for name in result.outcomes}


def ballasts(kernel: Observed, processes: list[SeenProcess]) -> float:
    return kernel.weighed_s(processes) / ballast_cpu_s()


def test_a_weighed_call_is_charged_to_the_process_that_ran_it(submission: Path) -> None:
    got = outcomes(submission, Call("children", "in_children", ([1, 2, 3, 4],)),
                   Call("caller", "in_caller", ([1, 2, 3, 4],)),
                   Call("wrapper", "around_the_wrapper", ([1, 2, 3, 4],)),
                   Call("forged", "forged_span_in_caller"))
    children = got["children"].trace.kernel
    assert ballasts(children, children.created()) >= 4 * WEIGHED_SHARE
    assert ballasts(children, [children.caller()]) == 0
    caller = got["caller"].trace.kernel
    assert not caller.created() and ballasts(caller, [caller.caller()]) >= 4 * WEIGHED_SHARE
    for name in ("wrapper", "forged"):  # no ballast spent: nothing a check could pass on
        kernel = got[name].trace.kernel
        assert ballasts(kernel, [kernel.caller(), *kernel.created()]) == 0, name


def test_a_thread_and_an_exit_code_as_the_kernel_saw_them(submission: Path) -> None:
    got = outcomes(submission, Call("thread", "in_a_thread", (3,)), Call("exit", "exits_with", (7,)))
    thread = got["thread"].trace.kernel
    (span,) = thread.spans(thread.caller())
    assert span.task in {t.task for t in thread.threads_created()} and span.task != thread.main_pid
    assert span.t <= thread.t_end and span.cpu_s >= WEIGHED_SHARE * ballast_cpu_s()
    (child,) = got["exit"].trace.kernel.created()
    assert child.exit == 7 and got["exit"].trace.kernel.ended_in_call(child)


def test_only_the_callers_shared_memory_counts(submission: Path) -> None:
    got = outcomes(submission, *(Call(which, "touches", (which,)) for which in ("callers", "own", "none")),
                   shared_pages=True)
    for which, expected in (("callers", True), ("own", False), ("none", False)):
        kernel = got[which].trace.kernel
        (child,) = kernel.created()
        assert bool(kernel.pages_of_callers(child)) is expected, which


def process(pid: int, t0: float, t_end: float, spans: tuple[Span, ...] = (), helper: bool = False) -> SeenProcess:
    return SeenProcess(pid, 1, t0, t_end, 0, False, 0.1, (), spans, None, helper)


def test_most_at_once_counts_overlapping_spans_that_used_the_cpu() -> None:
    busy = 0.002
    a = process(2, 0.0, 1.0, (Span(2, 0.1, 0.5, busy),))
    b = process(3, 0.0, 1.0, (Span(3, 0.4, 0.8, busy),))
    idle = process(4, 0.0, 1.0, (Span(4, 0.1, 0.9, 0.0),))
    later = process(5, 0.0, 1.0, (Span(5, 0.5, 0.9, busy),))  # begins as a ends: not at once
    kernel = Observed({p.pid: p for p in (a, b, idle, later)}, 1, frozenset(), 0.0, 1.0)
    assert kernel.most_at_once([a, b], busy) == 2
    assert kernel.most_at_once([a, idle], busy) == 1
    assert kernel.most_at_once([a, later], busy) == 1


def test_created_leaves_out_the_caller_and_helpers_and_one_after_another_is_seen() -> None:
    first, second = process(2, 0.1, 0.2), process(3, 0.3, 0.4)
    tracker, grader_helper = process(4, 0.1, 0.9, helper=True), process(5, 0.1, 0.9)
    before = process(6, -1.0, 0.5)
    kernel = Observed({p.pid: p for p in (first, second, tracker, grader_helper, before)}, 1, frozenset({5}),
                      0.0, 1.0)
    assert kernel.created() == [first, second]
    assert kernel.ran_one_after_another([first, second])
    assert not kernel.ran_one_after_another([first, process(7, 0.15, 0.4)])
