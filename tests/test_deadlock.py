"""A deadlock is answered as soon as it is certain, not at the timeout
(``grader/sandbox/boot/_grade_deadlock.py``); a call that is only slow (sleeping,
computing, waiting with a timeout) still runs until its timeout, and a call that
finishes is never taken for a deadlock."""

from __future__ import annotations

import platform
import time
from pathlib import Path

import pytest

from grader.sandbox import Call, SessionSpec, run_session
from grader.sandbox.boot._grade_deadlock import SYSCALLS, blocking_wait

SUBMISSION = '''
import multiprocessing as mp, os, select, signal, threading, time

def produce(q, index, size):
    q.put((index, [index] * size))

def join_before_get(sizes):          # exercise-9's classic: the children cannot flush into a full pipe
    q = mp.Queue()
    ps = [mp.Process(target=produce, args=(q, i, n)) for i, n in enumerate(sizes)]
    for p in ps: p.start()
    for p in ps: p.join()
    return [q.get() for _ in ps]

def get_after_get():                 # the second item never comes
    q = mp.Queue()
    p = mp.Process(target=produce, args=(q, 0, 10))
    p.start()
    q.get(); q.get()

def locks_crossed():                 # two threads take two locks in opposite orders
    a, b = threading.Lock(), threading.Lock()
    ready = threading.Barrier(2)
    def one(first, second):
        with first:
            ready.wait()
            with second:
                pass
    t = threading.Thread(target=one, args=(b, a)); t.start()
    one(a, b)

_LOCK = None

def _keep(lock):
    global _LOCK
    _LOCK = lock

def _locked():
    with _LOCK:
        return 1

def pool_task_waits():               # the pool's task waits for a Lock its caller holds
    lock = mp.Lock()
    with mp.Pool(2, initializer=_keep, initargs=(lock,)) as pool:
        with lock:
            return pool.apply_async(_locked).get()

def child_lock_held():               # the parent holds a Lock the child needs, and joins the child
    lock = mp.Lock()
    lock.acquire()
    p = mp.Process(target=_take, args=(lock,))
    p.start()
    p.join()

def _take(lock):
    lock.acquire()

def recv_nothing():                  # Connection.recv() on a pipe nobody writes
    here, there = mp.Pipe()
    p = mp.Process(target=_recv, args=(there,))
    p.start()
    p.join()

def _recv(conn):
    conn.recv()

def _sleep_then_put(q, seconds):
    time.sleep(seconds)
    q.put("late")

def slow_child(seconds):             # correct, but the parent waits a long time for a sleeping child
    q = mp.Queue()
    p = mp.Process(target=_sleep_then_put, args=(q, seconds))
    p.start()
    value = q.get()
    p.join()
    return value

def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass

def busy_child(seconds):             # correct: the parent is blocked in join() while the child computes
    p = mp.Process(target=_spin, args=(seconds,))
    p.start()
    p.join()
    return p.exitcode

def sleeping_forever():              # slow, not deadlocked: a child sleeps, the parent joins it
    p = mp.Process(target=time.sleep, args=(60,))
    p.start()
    p.join()

def spinning_forever():
    while True:
        pass

def polling_forever():               # a get() with a timeout, in a loop: it wakes up every time
    q = mp.Queue()
    while True:
        try:
            return q.get(timeout=0.05)
        except Exception:
            pass

def event_wait_loop():               # Event.wait(timeout) in a loop: a futex wait with a timeout
    event = threading.Event()
    while not event.wait(0.05):
        pass

class Late(Exception):
    pass

def _alarm(signum, frame):
    raise Late("woken by the alarm")

def alarm_wakes_get(seconds):        # blocked in get() with no timeout, but an alarm will wake it
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    q = mp.Queue()
    try:
        q.get()
    except Late:
        return "woken"

def eventfd_wait():                  # select() on an eventfd: something else might write it
    fd = os.eventfd(0)
    select.select([fd], [], [])
'''

TIMEOUT_S = 4.0
METHODS = ("fork", "spawn", "forkserver")


@pytest.fixture(scope="module")
def submission(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("deadlock") / "mod.py"
    path.write_text(SUBMISSION)
    return path


def outcome_of(submission: Path, call: Call, method: str = "fork", timeout_s: float = TIMEOUT_S, **spec):
    started = time.monotonic()
    result = run_session(SessionSpec("mod", submission, method, (call, Call("after", "slow_child", (0,))),
                                     timeout_s, **spec))
    return result[call.name], result["after"], time.monotonic() - started


needs_table = pytest.mark.skipif(platform.machine() not in SYSCALLS,
                                 reason=f"no system call table for {platform.machine()}: deadlocks wait for the timeout")


@needs_table
@pytest.mark.parametrize("method", METHODS)
def test_a_full_pipe_deadlock_is_answered_early_with_every_stack(submission: Path, method: str) -> None:
    outcome, after, elapsed = outcome_of(submission, Call("d", "join_before_get", ([1_000_000, 1_000_000],)), method)
    assert outcome.status == "timeout" and outcome.deadlock_s is not None
    assert outcome.deadlock_s < TIMEOUT_S / 2 and elapsed < TIMEOUT_S / 2 + 1.0
    assert outcome.duration_s == outcome.deadlock_s
    (main,) = [p for p in outcome.hang if p["is_worker"]]
    assert "join_before_get" in main["stack"] and "join" in main["stack"]
    children = [p for p in outcome.hang if not p["is_worker"] and not p["is_helper"]]
    assert len(children) == 2 and all("_feed" in p["stack"] for p in children)
    assert after.status == "not_run"


@needs_table
@pytest.mark.parametrize("function", ["get_after_get", "locks_crossed", "child_lock_held", "recv_nothing",
                                      "pool_task_waits"])
def test_other_deadlocks_are_answered_early(submission: Path, function: str) -> None:
    outcome, _, elapsed = outcome_of(submission, Call("d", function))
    assert outcome.status == "timeout" and outcome.deadlock_s is not None, function
    assert elapsed < TIMEOUT_S / 2 + 1.0
    (main,) = [p for p in outcome.hang if p["is_worker"]]
    assert function in main["stack"]


@pytest.mark.parametrize("function", ["sleeping_forever", "spinning_forever", "polling_forever", "event_wait_loop",
                                      "eventfd_wait"])
def test_slow_or_uncertain_calls_wait_for_their_timeout(submission: Path, function: str) -> None:
    outcome, _, elapsed = outcome_of(submission, Call("s", function), timeout_s=2.0)
    assert outcome.status == "timeout" and outcome.deadlock_s is None, function
    assert outcome.duration_s == 2.0 and elapsed >= 2.0


def test_a_timer_that_will_wake_a_blocked_call_is_not_a_deadlock(submission: Path) -> None:
    outcome, after, _ = outcome_of(submission, Call("a", "alarm_wakes_get", (1.0,)))
    assert outcome.status == "returned" and outcome.value == "woken"
    assert after.status == "returned"


@pytest.mark.parametrize("method", METHODS)
def test_long_waits_of_correct_code_are_not_deadlocks(submission: Path, method: str) -> None:
    """The parent blocked for a second while its child sleeps, then while it computes."""
    slow, after, _ = outcome_of(submission, Call("slow", "slow_child", (1.0,)), method)
    assert slow.status == "returned" and slow.value == "late" and after.status == "returned"
    busy, _, _ = outcome_of(submission, Call("busy", "busy_child", (1.0,)), method)
    assert busy.status == "returned" and busy.value == 0


@needs_table
def test_without_the_tracer_the_processes_come_from_proc(submission: Path) -> None:
    """Where ptrace is refused (here: not asked for), the sandbox's processes are the
    supervisor's descendants as ``/proc`` lists them."""
    outcome, _, elapsed = outcome_of(submission, Call("d", "child_lock_held"), observe=False)
    assert outcome.status == "timeout" and outcome.deadlock_s is not None and elapsed < TIMEOUT_S / 2 + 1.0


def test_the_early_answer_can_be_turned_off(submission: Path) -> None:
    outcome, _, elapsed = outcome_of(submission, Call("d", "get_after_get"), timeout_s=1.5, deadlock_settle_s=0)
    assert outcome.status == "timeout" and outcome.deadlock_s is None and elapsed >= 1.5


@pytest.mark.parametrize(("line", "expected"), [
    ("202 0x7f3738000b70 0x189 0x0 0x0 0x0 0xffffffff 0x7ffdeb4dd390 0x7f37416a3f16", ("futex", None)),
    ("202 0x7f3738000b70 0x189 0x0 0x7ffdeb4dd3a0 0x0 0xffffffff 0x7ffdeb4dd390 0x7f37416a3f16", None),  # timeout
    ("202 0x7f3738000b70 0x81 0x1 0x0 0x0 0x0 0x7ffdeb4dd390 0x7f37416a3f16", None),  # FUTEX_WAKE
    ("61 0x17bf 0x7ffdeb4ddc5c 0x0 0x0 0x0 0x0 0x7ffdeb4ddc48 0x7f37416f1bd3", ("wait4", None)),
    ("61 0x17bf 0x7ffdeb4ddc5c 0x1 0x0 0x0 0x0 0x7ffdeb4ddc48 0x7f37416f1bd3", None),  # WNOHANG
    ("7 0x7fa2ba8c4590 0x1 0xffffffff 0x1 0x0 0x0 0x7ffd10335ad8 0x7fa2bab1a230", ("poll", None)),
    ("7 0x7fa2ba8c4590 0x1 0x32 0x1 0x0 0x0 0x7ffd10335ad8 0x7fa2bab1a230", None),  # poll(..., 50 ms)
    ("232 0x8 0x7f4a212b5050 0x3 0xffffffff 0x0 0x0 0x7ffefe42b5f8 0x7f4a21926ef3", ("epoll_wait", None)),
    ("0 0x5 0x556d634f5c70 0x1000 0x7fbb8154c8d8 0x0 0x0 0x7ffe8b559b58 0x7fbb81b162ad", ("read", 5)),
    ("1 0x4 0x7f373fd58030 0x1e8d70 0x5654c1c09aa0 0x0 0x0 0x7f37408749f0 0x7f374171638f", ("write", 4)),
    ("230 0x1 0x0 0x7ffc0 0x0 0x0 0x0 0x7ffc1 0x7f2", None),  # clock_nanosleep: time.sleep()
    ("running", None),
    ("-1 0x7ffdeb4dd390 0x7f37416a3f16", None),  # not in a system call
])
def test_waits_without_a_timeout_are_read_from_proc(line: str, expected: tuple | None) -> None:
    assert blocking_wait(line, "x86_64") == expected


UNGUARDED_SCRIPT = '''
import multiprocessing as mp, time

def square(x):
    return x * x

pool = mp.Pool(2)
time.sleep(0.5)  # long enough for crashed workers to be removed: map would then divide by zero
print(pool.map(square, range(10)))
pool.close()
pool.join()
'''


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_a_child_starting_processes_while_importing_stops_the_call_at_once(tmp_path: Path, method: str) -> None:
    """Each worker imports the unguarded script again and is refused a Pool of its own:
    the call is stopped at the first refusal, the same way every run (the refused child is
    held, so the Pool is never found empty: the golden example
    ``ex02_main_guard/wrong_no_main_guard_late_map`` shows no ZeroDivisionError), with the
    refusal in the trace and nothing printed: how many children had time to print their
    traceback would be chance)."""
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED_SCRIPT)
    started = time.monotonic()
    result = run_session(SessionSpec("unguarded", script, method, (Call("script", "unguarded.py", kind="script"),),
                                     TIMEOUT_S))
    outcome = result["script"]
    assert outcome.status == "timeout" and outcome.stopped == "start_while_importing"
    assert outcome.deadlock_s is None and outcome.duration_s < 2.0 and time.monotonic() - started < TIMEOUT_S / 2
    assert outcome.trace.of("start_while_importing")
    assert "Traceback" not in outcome.stderr  # the refused children were stopped before they printed
