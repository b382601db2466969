"""The sandbox on its own: what comes back from a session, for well-behaved and
misbehaving code (fork start method: the cheapest; the grading tests cover all three)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.sandbox import Align, Call, SessionSpec, run_session, start_session
from grader.sandbox.boot._grade_values import encode
from grader.sandbox.isolation import isolation

SUBMISSION = '''
import multiprocessing as mp, os, signal, sys, time

def job(q, index, n):
    q.put((index, n * 2))

def collect(ns):
    q = mp.Queue()
    ps = [mp.Process(target=job, args=(q, i, n)) for i, n in enumerate(ns)]
    for p in ps: p.start()
    out = dict(q.get() for _ in ps)
    for p in ps: p.join()
    return [out[i] for i in range(len(ns))]

def shout(n):
    print("x" * n)
    return n

def hang():
    q = mp.Queue()
    p = mp.Process(target=job, args=(q, 0, 10))
    p.start()
    q.get(); q.get()   # the second item never comes

def spin():
    while True:
        pass

def leave_behind():
    p = mp.Process(target=time.sleep, args=(60,), daemon=True)
    p.start()
    open("left.pid", "w").write(str(p.pid))
    return p.pid

def escape():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(60)
        os._exit(0)
    return "escaped"

def kill_parent():
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(5)

def pair():
    return (1, 2), {"a": [3]}

def still_alive():
    pid = int(open("left.pid").read())
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
'''


@pytest.fixture(scope="module")
def submission(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sub") / "mod.py"
    path.write_text(SUBMISSION)
    return path


def session(submission: Path, *calls: Call, timeout_s: float = 5.0, **spec):
    return run_session(SessionSpec("mod", submission, "fork", calls, timeout_s, **spec))


def test_values_output_and_trace_come_back(submission: Path) -> None:
    result = session(submission, Call("c", "collect", ([1, 2, 3],)), Call("p", "pair"), traced=("job",))
    outcome = result["c"]
    assert outcome.status == "returned" and outcome.value == [2, 4, 6] and outcome.type_name == "list"
    assert len(outcome.trace.started()) == 3 and len(outcome.trace.calls("job")) == 3
    assert {c["pid"] for c in outcome.trace.calls("job")}.isdisjoint({outcome.trace.main_pid})
    assert result["p"].value == [[1, 2], {"a": [3]}] and result["p"].type_name == "tuple"


def test_output_is_captured_per_call_and_truncated_visibly(submission: Path) -> None:
    result = session(submission, Call("small", "shout", (5,)), Call("big", "shout", (100_000,)))
    assert result["small"].stdout == "xxxxx\n"
    assert result["big"].stdout.startswith("x" * 100)
    assert "[output truncated: 100,001 bytes in total" in result["big"].stdout


def test_a_hang_is_stopped_with_every_process_stack(submission: Path) -> None:
    result = session(submission, Call("h", "hang"), Call("after", "pair"), timeout_s=1.0)
    outcome = result["h"]
    assert outcome.status == "timeout"
    main = [p for p in outcome.hang if p["is_worker"]]
    assert main and "in hang" in main[0]["stack"] and "queues.py" in main[0]["stack"]
    assert result["after"].status == "not_run"


def test_a_busy_loop_uses_cpu(submission: Path) -> None:
    outcome = session(submission, Call("s", "spin"), timeout_s=1.0)["s"]
    (main,) = [p for p in outcome.hang if p["is_worker"]]
    assert outcome.status == "timeout"
    assert main["state"] == "R" or main["cpu_s"] > 0.5  # running, or it ran most of the time


def test_processes_left_running_are_named_and_killed(submission: Path) -> None:
    result = session(submission, Call("l", "leave_behind"), Call("after", "still_alive"))
    outcome = result["l"]
    assert outcome.status == "returned"
    assert [leak["pid"] for leak in outcome.leaks] == [outcome.value]
    assert result["after"].value is False


def test_a_double_forked_setsid_daemon_is_caught(submission: Path) -> None:
    outcome = session(submission, Call("e", "escape"))["e"]
    assert outcome.value == "escaped" and len(outcome.leaks) == 1


def test_killing_the_supervisor_is_an_error_and_leaves_nothing(submission: Path) -> None:
    result = session(submission, Call("k", "kill_parent"))
    if isolation().landlock >= 6:  # signals out of the Landlock domain: the kernel refuses the kill
        assert result["k"].status == "raised" and result["k"].exception == "PermissionError"
    else:
        assert result.error and result["k"].status in ("not_run", "crashed")


def test_a_rendezvous_aligns_only_the_named_calls(submission: Path) -> None:
    result = session(submission, Call("aligned", "collect", ([1, 2],)), Call("free", "collect", ([1],)),
                     traced=("job",), align=Align("job", parties=2, timeout_s=2.0, calls=("aligned",)))
    assert result["aligned"].value == [2, 4] and result["free"].value == [2]
    assert result["free"].duration_s < 1.5  # one party alone does not wait for the timeout


def test_long_sequences_are_summarised_identically_on_both_sides() -> None:
    big = list(range(10_000))
    assert encode(big) == encode(tuple(big))
    assert encode(big)["__summary__"]["len"] == 10_000
    assert encode(big) != encode(big[:-1] + [0])


def test_no_sandbox_folder_is_left_behind(submission: Path) -> None:
    running = start_session(SessionSpec("mod", submission, "fork", (Call("p", "pair"),), 5.0))
    assert running.folder.is_dir()
    running.result()
    assert not running.folder.exists()


def test_shared_memory_segments_are_traced(tmp_path: Path) -> None:
    path = tmp_path / "shm.py"
    path.write_text(
        "from multiprocessing import shared_memory\n"
        "def keep():\n    s = shared_memory.SharedMemory(create=True, size=64); s.close(); return s.name\n"
        "def tidy():\n    s = shared_memory.SharedMemory(create=True, size=64); s.close(); s.unlink(); return s.name\n"
        "def clean_up(name):\n    s = shared_memory.SharedMemory(name=name); s.close(); s.unlink()\n")
    result = run_session(SessionSpec("shm", path, "spawn", (Call("keep", "keep"), Call("tidy", "tidy")), 5.0))
    assert result["keep"].trace.shared_memory_left() == [result["keep"].value]
    assert result["tidy"].trace.shared_memory_left() == []
    run_session(SessionSpec("shm", path, "fork", (Call("c", "clean_up", (result["keep"].value,)),), 5.0))


@pytest.mark.parametrize("failure", ["cgroup", "popen"])
def test_a_session_that_cannot_start_leaves_nothing(submission: Path, failure: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import tempfile

    from grader.sandbox import session as session_module

    def refuse(*args, **kwargs):
        raise OSError(f"{failure} refused")

    folders = tmp_path / "sessions"
    folders.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folders))
    if failure == "cgroup":
        monkeypatch.setattr(session_module.SessionCgroup, "make", refuse)
    else:
        monkeypatch.setattr(subprocess, "Popen", refuse)
    with pytest.raises(OSError, match="refused"):
        start_session(SessionSpec("mod", submission, "fork", (Call("p", "pair"),), 5.0))
    assert not list(folders.iterdir())


HELPER_LIKE = '''
import subprocess, sys

def helper_like(seconds):  # named as multiprocessing names its resource tracker, exiting after `seconds`
    subprocess.Popen([sys.executable, "-c", "from multiprocessing.resource_tracker import main; import time; "
                      f"time.sleep({seconds})"])
'''


def test_a_helper_exiting_late_is_no_leftover_but_one_that_stays_is(tmp_path: Path) -> None:
    """A script's resource tracker exits by itself after the script, later than the usual
    grace on a loaded CPU: a process that looks like one gets 2 s, not 0.3 s. Looking like
    one buys no more: alive after those 2 s, it is a leftover, named and killed."""
    module = tmp_path / "helpers.py"
    module.write_text(HELPER_LIKE)
    result = run_session(SessionSpec("helpers", module, "fork",
                                     (Call("late", "helper_like", (1.0,)), Call("stays", "helper_like", (30,))), 10.0))
    assert result["late"].status == "returned" and result["late"].leaks == []
    stays = result["stays"]
    assert stays.status == "returned" and len(stays.leaks) == 1
    assert "resource_tracker" in stays.leaks[0]["cmdline"]
