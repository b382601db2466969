"""The explanations some checks read from a submission's source or from its values,
tested on their own: the golden examples (tests/examples) show them in context, with
one seed; these try the cases around them.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.checks.check_ex04_speedup import _verdict
from grader.checks.check_ex07_shared_memory import unwritten_tail
from grader.checks.check_ex08_lock import lock_mistake
from grader.i18n import text


def english() -> SimpleNamespace:
    return SimpleNamespace(t=lambda key, **params: text(key, "en", **params))


# --- exercise-4: how multicore()'s time compares with serial()'s ----------------------------

@pytest.mark.parametrize(("serial", "total", "starts"), [
    (3.0, 1.0, "×3.0 faster than serial()"),
    (1.25, 1.0, "×1.2 faster than serial()"),
    (1.04, 1.0, "about as fast as serial()"),
    (1.0, 1.06, "about as fast as serial()"),
    (1.0, 2.0, "slower than serial() here"),
])
def test_the_speed_up_is_worded_from_its_ratio(serial: float, total: float, starts: str) -> None:
    verdict = _verdict(english(), serial, total, 4)
    assert verdict.startswith(starts), verdict
    assert "×1.0" not in verdict


def timed(cpu_s: float | None) -> SimpleNamespace:
    """A timed call's outcome as _clock reads it: the CPU time the kernel charged its caller."""
    return SimpleNamespace(trace=SimpleNamespace(kernel=SimpleNamespace(caller_cpu_s=cpu_s)))


@pytest.mark.parametrize(("seconds", "cpu", "one_process", "says"), [
    # as measured under load: threads "faster" by the clock, the same CPU time
    ({"serial": 0.51, "threaded": 0.22, "multicore": 0.3}, (0.2, 0.21), ("threaded",),
     "threaded() took less time than serial() here (0.22 s against 0.51 s) only by the clock: the kernel charged "
     "both calls about the same CPU time (0.21 s to threaded(), 0.20 s to serial())"),
    ({"serial": 0.2, "threaded": 0.1, "multicore": 0.3}, (0.2, 0.1), ("threaded",),
     "threaded() took less time than serial() here (0.10 s against 0.20 s) only by the clock: on a machine shared "
     "with other programs, the same work does not always take the same time (the CPU time the kernel charged: "
     "0.10 s to threaded(), 0.20 s to serial())"),
    ({"serial": 0.2, "threaded": 0.1, "multicore": 0.3}, (None, 0.1), ("threaded",),
     "the same work does not always take the same time"),
    ({"serial": 0.3, "threaded": 0.3, "multicore": 0.1}, (0.1, 0.1), ("threaded", "multicore"),
     "multicore() took less time than serial() here (0.10 s against 0.30 s) only by the clock"),
    ({"serial": 0.3, "threaded": 0.28, "multicore": 0.1}, (0.1, 0.1), ("threaded",), ""),  # processes may be faster
    ({"serial": 0.2, "threaded": 0.19, "multicore": 0.3}, (0.2, 0.2), ("threaded",), ""),
    ({"serial": 0.1, "threaded": 0.09, "multicore": 0.3}, (0.08, 0.06), ("threaded",), ""),  # within the rounding
    ({"serial": None, "threaded": 0.1, "multicore": 0.3}, (0.2, 0.2), ("threaded",), ""),
])
def test_the_timing_lesson_is_true_for_the_figures_it_shows(seconds, cpu, one_process, says) -> None:
    """A variant that ran in one process (under its GIL) is never said to be no faster than
    serial() next to figures where it took less time, without saying that this is the
    clock's doing, and with the CPU time the kernel charged when it is known."""
    from grader.checks.check_ex04_speedup import _clock

    serial_cpu, cpu_s = cpu
    outcomes = {"serial": timed(serial_cpu), "threaded": timed(cpu_s), "multicore": timed(cpu_s)}
    clock = _clock(english(), outcomes, seconds, one_process)
    assert (says in clock) if says else clock == "", clock
    lesson = text("ex04.lesson.processes", "en", cores=2, startup="0.05", verdict="?", clock=clock)
    assert "so threaded() is no faster than serial()" + clock + ". Processes" in lesson


# --- exercise-7: the end of the array never written --------------------------------------------

def test_an_unwritten_tail_is_counted_only_when_it_is_the_only_mistake() -> None:
    expected = [i * i for i in range(7)]
    assert unwritten_tail(expected, expected[:5] + [0, 0]) == 2
    assert unwritten_tail(expected, [0] * 7) == 7  # n < workers: every chunk empty
    assert unwritten_tail(expected, expected) == 0
    assert unwritten_tail(expected, expected[:3] + [0] + expected[4:6] + [0]) == 0  # a hole before the tail
    assert unwritten_tail(expected, expected[:5] + [1, 0]) == 0
    assert unwritten_tail(expected, expected[:6]) == 0  # wrong length: said otherwise
    assert unwritten_tail(expected, {"__summary__": {}}) == 0


# --- exercise-3: results keyed by n ---------------------------------------------------------

def test_results_keyed_by_n_are_named_when_a_repeated_n_lost_one() -> None:
    from grader.checks.check_ex03_queue import job_value, repeated_lost

    ns = [4358, 1539, 2056, 1539]
    distinct = [job_value(n) for n in (4358, 1539, 2056)]
    assert repeated_lost(ns, distinct) == [1539]
    assert repeated_lost(ns, distinct[::-1]) == [1539]  # in arrival order: still one per distinct n
    assert repeated_lost(ns, [job_value(n) for n in ns]) == []  # right length: said otherwise
    assert repeated_lost(ns, distinct[:2]) == []
    assert repeated_lost([3, 1, 2], [job_value(n) for n in (3, 1)]) == []  # no repeated n
    assert repeated_lost(ns, {"__summary__": {}}) == []


# --- exercise-8: what the submission does with its lock --------------------------------------

MODULE_LOCK = '''import multiprocessing as mp
from multiprocessing import Semaphore

LOCK = mp.{made}


def job(v, num, lock, times):
    for _ in range(times):
        with {held}:
            v.value += num


def multicore(times=10_000):
    lock = mp.Lock()
    v = mp.Value('i', 0)
    ps = [mp.Process(target=job, args=(v, n, lock, times)) for n in (1, 3)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return v.value
'''


def mistake(tmp_path: Path, source: str, method: str) -> tuple[str, dict[str, str]]:
    submission = tmp_path / "ex08_lock.py"
    submission.write_text(source, encoding="utf-8")
    return lock_mistake(submission, method)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
@pytest.mark.parametrize("made", ["Lock()", "RLock()", "Semaphore(1)", "get_context('spawn').Lock()"])
def test_a_lock_made_at_import_time_is_named_under_spawn_and_forkserver(tmp_path: Path, method: str,
                                                                        made: str) -> None:
    key, params = mistake(tmp_path, MODULE_LOCK.format(made=made, held="LOCK"), method)
    assert key == "ex08.why.module_lock"
    assert params == {"name": "LOCK", "made": f"LOCK = mp.{made}", "method": method}
    message = text(key, "en", **params)
    assert f"`LOCK = mp.{made}`" in message and f"Under {method} " in message and "args=" in message


def test_a_lock_made_at_import_time_is_not_the_cause_under_fork(tmp_path: Path) -> None:
    assert mistake(tmp_path, MODULE_LOCK.format(made="Lock()", held="LOCK"), "fork")[0] == "ex08.why.race"


def test_only_a_module_lock_that_job_uses_is_named(tmp_path: Path) -> None:
    # job holds the lock it is given: the module's LOCK is not the cause
    assert mistake(tmp_path, MODULE_LOCK.format(made="Lock()", held="lock"), "spawn")[0] == "ex08.why.race"
    # a parameter of the same name hides the module's
    shadowed = MODULE_LOCK.format(made="Lock()", held="LOCK").replace("def job(v, num, lock, times)",
                                                                      "def job(v, num, LOCK, times)")
    assert mistake(tmp_path, shadowed, "spawn")[0] == "ex08.why.race"
    # made under the main guard: not at import time
    guarded = MODULE_LOCK.format(made="Lock()", held="LOCK").replace(
        "LOCK = mp.Lock()", "if __name__ == '__main__':\n    LOCK = mp.Lock()")
    assert mistake(tmp_path, guarded, "spawn")[0] == "ex08.why.race"
    # a lock job makes itself is named first
    own = MODULE_LOCK.format(made="Lock()", held="LOCK").replace("    for _ in range(times):",
                                                                 "    LOCK = mp.Lock()\n    for _ in range(times):")
    assert mistake(tmp_path, own, "spawn") == ("ex08.why.own_lock", {"name": "LOCK"})


# --- functions a child cannot be sent ------------------------------------------------------

@pytest.mark.parametrize(("error", "key"), [
    ("_pickle.PicklingError: Can't pickle <function <lambda> at 0x7f3a12345678>: attribute lookup <lambda> on "
     "ex10_word_count failed", "cause.pickle_lambda"),
    ("AttributeError: Can't pickle local object 'count_words.<locals>.<lambda>'", "cause.pickle_lambda"),
    ("_pickle.PicklingError: Can't pickle <function <lambda> at 0x7f3a12345678>: it's not found as "
     "ex10_word_count.<lambda>", "cause.pickle_lambda"),
    ("AttributeError: Can't get local object 'count_words.<locals>.<lambda>'", "cause.pickle_lambda"),
    ("AttributeError: Can't pickle local object 'collect.<locals>.worker'", "cause.pickle_local"),
    ("_pickle.PicklingError: Can't pickle local object <function collect.<locals>.worker at 0x7f3a12345678>",
     "cause.pickle_local"),
])
def test_a_function_that_cannot_be_pickled_is_named(error: str, key: str) -> None:
    from grader.diagnose import cause_of

    run = SimpleNamespace(t=lambda k, **params: SimpleNamespace(key=k, params=params), start_method="spawn")
    cause = cause_of("Traceback (most recent call last):\n" + error, SimpleNamespace(), run)
    assert cause.key == key
    if key == "cause.pickle_local":
        assert cause.params == {"name": "collect.<locals>.worker"}


THREAD_QUEUE = """import multiprocessing as mp
{imports}


def threaded(tasks):
    q = queue.Queue()


def multicore(tasks):
    q = {made}
"""


@pytest.mark.parametrize(("imports", "made", "key"), [
    ("import queue", "queue.Queue()", "cause.thread_queue_pickled"),
    ("import queue as Q", "Q.SimpleQueue()", "cause.thread_queue_pickled"),
    ("import queue\nfrom queue import Queue as TQ", "TQ()", "cause.thread_queue_pickled"),
    # threaded() makes a queue.Queue, but the call that failed made a lock
    ("import queue\nimport threading", "threading.Lock()", "cause.thread_lock_pickled"),
    ("import queue", "mp.Queue()", "cause.thread_lock_pickled"),
])
def test_a_thread_queue_given_to_a_process_is_named(tmp_path: Path, imports: str, made: str, key: str) -> None:
    """A thread lock that cannot be pickled is named a queue.Queue when the failing call's
    function (or the module's own code) makes one, a threading object otherwise."""
    from grader.diagnose import cause_of

    submission = tmp_path / "ex04_speedup.py"
    submission.write_text(THREAD_QUEUE.format(imports=imports, made=made), encoding="utf-8")
    run = SimpleNamespace(t=lambda k, **params: SimpleNamespace(key=k, params=params), start_method="spawn",
                          session=SimpleNamespace(spec=SimpleNamespace(submission=submission)))
    outcome = SimpleNamespace(call=SimpleNamespace(function="multicore"))
    error = "Traceback (most recent call last):\nTypeError: cannot pickle '_thread.lock' object"
    assert cause_of(error, outcome, run).key == key


@pytest.mark.parametrize("error", ["_queue.Empty", "queue.Empty", "Empty"])
def test_an_empty_queue_is_explained(error: str) -> None:
    from grader.diagnose import cause_of

    run = SimpleNamespace(t=lambda k, **params: SimpleNamespace(key=k, params=params), start_method="fork")
    traceback = ('Traceback (most recent call last):\n  File "ex03_queue.py", line 12, in collect\n'
                 '    results.append(q.get(timeout=0.1))\n' + error)
    assert cause_of(traceback, SimpleNamespace(stderr=""), run).key == "cause.queue_empty"
    crashed = SimpleNamespace(stderr="Process Process-1:\nTraceback (most recent call last):\nTypeError: ...")
    assert cause_of(traceback, crashed, run).key == "cause.queue_empty_child_crashed"
    assert cause_of("Traceback (most recent call last):\nValueError: EmptyList", SimpleNamespace(), run) == ""


SERIAL_PROCESSES = '''
import multiprocessing as mp
import threading

def work(n):
    return sum(i * i for i in range(n))

def serial(tasks):
    return [work(n) for n in tasks]

def _threaded(n, results, i):
    results[i] = work(n)

def threaded(tasks):
    results = [None] * len(tasks)
    ts = [threading.Thread(target=_threaded, args=(n, results, i)) for i, n in enumerate(tasks)]
    for t in ts: t.start()
    for t in ts: t.join()
    return results

def _proc(n, q, i):
    q.put((i, work(n)))

def multicore(tasks):
    q, out = mp.Queue(), [None] * len(tasks)
    for i, n in enumerate(tasks):
        p = mp.Process(target=_proc, args=(n, q, i))
        p.start()
        p.join()
        j, v = q.get()
        out[j] = v
    return out
'''


def test_exercise_4_tells_processes_run_one_after_another_from_its_timed_calls(tmp_path) -> None:
    """The lesson is told from calls no harness holds: processes joined one by one are
    said to have run one after the other, and the grader's waits are not counted."""
    from conftest import grade

    submission = tmp_path / "ex04_speedup.py"
    submission.write_text(SERIAL_PROCESSES)
    shown = grade("--submission", str(submission), "--start-method", "fork").stdout
    assert "but they ran one after the other, so it could not be faster than serial()" in shown
    assert "ran side by side" not in shown


# --- what a blocked process waits on ---------------------------------------------------------

IDLE_FEEDER = [("/usr/lib/python3.11/threading.py", 327, "wait"),
               ("/usr/lib/python3.11/multiprocessing/queues.py", 231, "_feed"),
               ("/usr/lib/python3.11/threading.py", 982, "run")]
WRITING_FEEDER = [("/usr/lib/python3.11/multiprocessing/connection.py", 373, "_send"),
                  ("/usr/lib/python3.11/multiprocessing/connection.py", 200, "send_bytes"),
                  ("/usr/lib/python3.11/multiprocessing/queues.py", 250, "_feed"),
                  ("/usr/lib/python3.11/threading.py", 982, "run")]
WAITING_FOR_THE_WRITE_LOCK = [("/usr/lib/python3.11/multiprocessing/queues.py", 248, "_feed"),
                              ("/usr/lib/python3.11/threading.py", 982, "run")]
GETTING = [("/usr/lib/python3.11/multiprocessing/connection.py", 395, "_recv"),
           ("/usr/lib/python3.11/multiprocessing/queues.py", 103, "get"),
           ("/tmp/src/ex11_sentinel.py", 53, "worker")]


def dump(*frames: tuple[str, int, str]) -> str:
    """A faulthandler dump of one thread, innermost frame first."""
    return "Current thread 0x00007f0000000001 (most recent call first):\n" + "\n".join(
        f'  File "{file}", line {line} in {function}' for file, line, function in frames)


THREAD_QUEUE_GET = [("/usr/lib/python3.11/threading.py", 320, "wait"), ("/usr/lib/python3.11/queue.py", 171, "get")]


@pytest.mark.parametrize(("stack", "waits", "explained"), [
    (dump(*THREAD_QUEUE_GET, ("/tmp/src/ex04_speedup.py", 43, "multicore")), "wait.thread_queue_get", True),
    # a Manager's server process waits in its queue.Queue's get() for a client: not the submission's get()
    (dump(*THREAD_QUEUE_GET, ("/usr/lib/python3.11/multiprocessing/managers.py", 209, "serve_client")),
     "wait.thread_queue_get", False),
    (dump(("/usr/lib/python3.11/multiprocessing/connection.py", 395, "_recv"),
          ("/usr/lib/python3.11/multiprocessing/queues.py", 103, "get"), ("/tmp/src/ex04_speedup.py", 43, "multicore")),
     "wait.queue_get", False),
])
def test_a_get_on_a_thread_queue_after_starting_processes_is_explained(stack: str, waits: str,
                                                                         explained: bool) -> None:
    """A get() the submission called on a queue.Queue, in a call that started processes:
    the children put into copies of that queue (fork), so the item never comes."""
    from grader.diagnose import _thread_queue_across, _wait_point, parse_stack

    run = SimpleNamespace(t=lambda key, **params: key, exercise=SimpleNamespace(module="ex04_speedup"))
    outcome = SimpleNamespace(hang=[{"is_worker": True, "stack": stack}],
                              trace=SimpleNamespace(started=lambda: [{"child": 12, "target": "ex04_speedup.job"}]))
    assert _thread_queue_across(outcome, run) == ("cause.thread_queue_copied" if explained else "")
    assert _wait_point(parse_stack(stack), "/ex04_speedup.py") == waits


def test_an_idle_queue_feeder_is_not_taken_for_a_full_pipe() -> None:
    """A process that once put on a queue keeps its feeder thread, waiting for more to send:
    it is the process's other threads that say what it waits for. Only a feeder inside a
    pipe write, or waiting for the write lock a sibling writing holds, is pushing data nobody
    reads (exercise-9's classic)."""
    from grader.diagnose import _wait_point

    assert _wait_point([IDLE_FEEDER, GETTING], "/ex11_sentinel.py") == "wait.queue_get"
    assert _wait_point([WRITING_FEEDER, GETTING], "/ex11_sentinel.py") == "wait.feeder"
    assert _wait_point([WAITING_FOR_THE_WRITE_LOCK, GETTING], "/ex11_sentinel.py") == "wait.feeder"
    assert _wait_point([IDLE_FEEDER], "/ex11_sentinel.py") is None
