"""Isolation: what a submission can see and reach (bubblewrap; Landlock), the process
limit, the scrubbed environment. Each wall is tested alone (``GRADE_ISOLATION=bubblewrap``
or ``landlock``), and Landlock under bubblewrap too (the default, ``auto``). Tests that
need bubblewrap, Landlock or a pids cgroup are skipped where the machine lacks it
(``.ci/run`` installs bubblewrap, so CI runs them; Landlock needs Linux 5.13, its TCP
wall 6.7, its signal scoping 6.12)."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import CURRICULUM_IDS, ROOT
from grader.i18n import text
from grader.sandbox.boot import _grade_landlock
from grader.sandbox.isolation import isolation

SOLVE = '''
import multiprocessing as mp

def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))

def solve(ns):
    q = mp.Queue()
    ps = [mp.Process(target=job, args=(q, i, n)) for i, n in enumerate(ns)]
    for p in ps: p.start()
    out = dict(q.get() for _ in ps)
    for p in ps: p.join()
    return [out[i] for i in range(len(ns))]
'''

needs_bwrap = pytest.mark.skipif(not isolation().bwrap, reason=f"no bubblewrap: {isolation().reason}")
LANDLOCK_ABI, NO_LANDLOCK = _grade_landlock.abi()


def needs_landlock(abi: int = 1) -> pytest.MarkDecorator:
    return pytest.mark.skipif(LANDLOCK_ABI < abi, reason=f"no Landlock ABI {abi} here "
                              f"({NO_LANDLOCK or f'the kernel has ABI {LANDLOCK_ABI}'})")


def run(tmp_path: Path, body: str, **env: str) -> dict:
    submission = tmp_path / "ex03_queue.py"
    submission.write_text(SOLVE + body)
    completed = subprocess.run([sys.executable, "-m", "grader", "--submission", str(submission), "--format", "json",
                                "--start-method", "fork"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                               env={**os.environ, **env})
    (exercise,) = json.loads(completed.stdout)["exercises"]
    return exercise


def first_failure(exercise: dict) -> str:
    return next(c["message"] for c in exercise["checks"] if c["status"] != "passed")


def test_the_sandbox_processes_carry_none_of_the_graders_environment(tmp_path: Path) -> None:
    """The worker and its parent, the supervisor, get a scrubbed environment (checked
    without the walls: Landlock refuses the worker any read of /proc)."""
    body = '''
import os
def collect(ns):
    for pid in (os.getpid(), os.getppid()):
        try:
            environment = open(f"/proc/{pid}/environ", "rb").read()
        except PermissionError:  # the supervisor's is not the submission's to read
            continue
        if b"s3cr3t-token" in environment:
            raise RuntimeError(f"secret seen in process {pid}")
    if "GRADE_TEST_SECRET" in os.environ:
        raise RuntimeError("secret in os.environ")
    return solve(ns)
'''
    exercise = run(tmp_path, body, GRADE_TEST_SECRET="s3cr3t-token", GRADE_ISOLATION="process")
    assert exercise["status"] == "passed", first_failure(exercise)


@needs_bwrap
def test_no_process_with_the_graders_environment_is_visible(tmp_path: Path) -> None:
    """Without bubblewrap the grader's own /proc entry is readable (same user)."""
    body = '''
import os
def collect(ns):
    for entry in os.listdir("/proc"):
        try:
            if b"s3cr3t-token" in open(f"/proc/{entry}/environ", "rb").read():
                raise RuntimeError(f"secret seen in process {entry}")
        except OSError:
            pass
    return solve(ns)
'''
    exercise = run(tmp_path, body, GRADE_TEST_SECRET="s3cr3t-token", GRADE_ISOLATION="bubblewrap")
    assert exercise["status"] == "passed", first_failure(exercise)


@needs_bwrap
def test_reference_solutions_are_out_of_reach(tmp_path: Path) -> None:
    body = f'''
import runpy
def collect(ns):
    solution = runpy.run_path({str(ROOT / "solutions" / "ex03_queue.py")!r})
    return solution["collect"](ns)
'''
    exercise = run(tmp_path, body, GRADE_ISOLATION="bubblewrap")
    assert exercise["status"] == "failed"
    assert "No such file or directory" in first_failure(exercise)


@needs_bwrap
def test_nothing_outside_the_sandbox_can_be_written(tmp_path: Path) -> None:
    target = tmp_path / "written-by-the-submission.txt"
    body = f'''
def collect(ns):
    open({str(target)!r}, "w").write("escaped")
    return solve(ns)
'''
    exercise = run(tmp_path, body, GRADE_ISOLATION="bubblewrap")
    assert exercise["status"] == "failed"
    assert not target.exists()


SECCOMP_REFUSAL = "Address family not supported by protocol"


@pytest.mark.parametrize("mode, refusals", [
    pytest.param("bubblewrap", ("Connection refused", "Network is unreachable", SECCOMP_REFUSAL), marks=needs_bwrap),
    pytest.param("landlock", ("PermissionError: [Errno 13] Permission denied", SECCOMP_REFUSAL),
                 marks=needs_landlock(4)),
    pytest.param("process", (SECCOMP_REFUSAL,)),
])
def test_no_tcp(tmp_path: Path, mode: str, refusals: tuple[str, ...]) -> None:
    """Every mode: the seccomp filter refuses an AF_INET socket (where it is up); behind
    it, bubblewrap has a network namespace with no interface and Landlock refuses
    connect (EACCES). The connection never arrives."""
    if mode == "process" and not isolation().seccomp:
        pytest.skip(f"no seccomp filter here: {isolation().seccomp_reason}")
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    connections = []
    server.settimeout(20)
    thread = threading.Thread(target=lambda: connections.append(_accept(server)), daemon=True)
    thread.start()
    body = f'''
import socket
def collect(ns):
    socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"hello")
    return solve(ns)
'''
    exercise = run(tmp_path, body, GRADE_ISOLATION=mode)
    server.close()
    assert exercise["status"] == "failed"
    assert any(refusal in first_failure(exercise) for refusal in refusals), first_failure(exercise)
    assert connections in ([], [None])


@needs_landlock()
def test_landlock_refuses_to_read_the_reference_solution(tmp_path: Path) -> None:
    """Landlock alone: the file is there (no bubblewrap to hide it), the kernel refuses it."""
    solution = ROOT / "solutions" / "ex03_queue.py"
    assert solution.is_file()
    body = f'''
def collect(ns):
    return open({str(solution)!r}).read()
'''
    exercise = run(tmp_path, body, GRADE_ISOLATION="landlock")
    assert exercise["status"] == "failed"
    assert f"PermissionError: [Errno 13] Permission denied: {str(solution)!r}" in first_failure(exercise)


@needs_landlock()
def test_landlock_refuses_to_write_into_the_checkout(tmp_path: Path) -> None:
    target = ROOT / "tests" / f"written-by-the-submission-{os.getpid()}.txt"
    body = f'''
def collect(ns):
    open({str(target)!r}, "w").write("escaped")
    return solve(ns)
'''
    try:
        exercise = run(tmp_path, body, GRADE_ISOLATION="landlock")
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)
    assert exercise["status"] == "failed"
    assert f"PermissionError: [Errno 13] Permission denied: {str(target)!r}" in first_failure(exercise)


@pytest.mark.parametrize("mode", ["landlock", "auto"])
@needs_landlock(6)
def test_landlock_refuses_to_signal_the_supervisor(tmp_path: Path, mode: str) -> None:
    """Alone, and under bubblewrap (``auto``): there the supervisor is in the same PID
    namespace, which bubblewrap alone does not protect it from."""
    if mode == "auto" and not isolation().bwrap:
        pytest.skip(f"no bubblewrap: {isolation().reason}")
    body = '''
import os, signal
def collect(ns):
    os.kill(os.getppid(), signal.SIGKILL)
    return solve(ns)
'''
    exercise = run(tmp_path, body, GRADE_ISOLATION=mode)
    assert exercise["status"] == "failed"
    assert "PermissionError: [Errno 1] Operation not permitted" in first_failure(exercise)  # EPERM: scoped


@needs_landlock()
def test_reference_solutions_pass_under_landlock() -> None:
    completed = subprocess.run([sys.executable, "-m", "grader", "--solution", "-j", "2", "--format", "json"],
                               cwd=ROOT, capture_output=True, text=True, timeout=600,
                               env={**os.environ, "GRADE_ISOLATION": "landlock"})
    report = json.loads(completed.stdout)
    failed = {e["id"]: e["message"] or next((c["message"] for c in e["checks"] if c["status"] != "passed"), "")
              for e in report["exercises"] if e["status"] != "passed"}
    assert completed.returncode == 0 and not failed, failed
    assert [ex["id"] for ex in report["exercises"]][:len(CURRICULUM_IDS)] == CURRICULUM_IDS


@pytest.mark.parametrize("mode", ["auto", "bubblewrap", "landlock", "process", "nonsense"])
def test_version_says_which_walls_are_up(mode: str) -> None:
    completed = subprocess.run([sys.executable, "-m", "grader", "--version"], cwd=ROOT, capture_output=True,
                               text=True, timeout=60, env={**os.environ, "GRADE_ISOLATION": mode})
    assert completed.returncode == 0, completed.stderr
    first, second, bubblewrap, landlock, *_ = completed.stdout.splitlines()
    assert first.startswith("grade ")
    assert second.startswith(f"isolation (GRADE_ISOLATION={'auto' if mode == 'nonsense' else mode}): ")
    assert bubblewrap.startswith("  bubblewrap: ") and landlock.startswith("  Landlock: ")
    if mode == "process":
        assert "process-level sandbox only" in second


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_notice_names_every_missing_wall_and_unobserved_process_facts(language: str) -> None:
    degraded = dataclasses.replace(isolation(), bwrap=None, reason="bubblewrap (bwrap) is not installed",
                                   landlock=0, landlock_reason="no Landlock", mode="auto",
                                   ptrace_reason="ptrace is refused here: Operation not permitted")
    notice = degraded.notice(language)
    for said in ("bubblewrap (bwrap) is not installed", "no Landlock", "Operation not permitted",
                 text("isolation.process_only", language)):
        assert said in notice
    assert "process facts: not observed (ptrace is refused here" in degraded.summary()
    whole = dataclasses.replace(degraded, bwrap="/usr/bin/bwrap", landlock=7, ptrace_reason="")
    assert whole.notice(language) == ""
    chosen = dataclasses.replace(whole, bwrap=None, landlock=0, mode="process")
    assert chosen.notice(language) == text("isolation.notice", language, up=text("isolation.process_only", language))


def _accept(server: socket.socket):
    try:
        return server.accept()
    except OSError:
        return None


@pytest.mark.skipif(not isolation().pids_cgroup and os.geteuid() == 0,
                    reason="root without a pids cgroup: no process limit to test")
def test_a_fork_bomb_is_stopped_and_told_so(tmp_path: Path) -> None:
    body = '''
import os, time
def collect(ns):
    while True:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
'''
    exercise = run(tmp_path, body)
    assert exercise["status"] == "failed"
    assert "too many processes" in first_failure(exercise)


def test_memory_is_limited_and_told_so(tmp_path: Path) -> None:
    body = '''
def collect(ns):
    hoard = []
    while True:
        hoard.append(bytearray(256 * 1024 * 1024))
'''
    exercise = run(tmp_path, body)
    assert exercise["status"] == "failed"
    assert "more than 1024 MiB of memory" in first_failure(exercise)


def test_too_many_open_files_is_named(tmp_path: Path) -> None:
    body = '''
def collect(ns):
    files = [open("/dev/null") for _ in range(10_000)]
    return solve(ns)
'''
    exercise = run(tmp_path, body)
    assert exercise["status"] == "failed"
    assert "too many files" in first_failure(exercise)


OBSERVED = '''
import sys
from pathlib import Path
from grader.sandbox import Call, SessionSpec, run_session
result = run_session(SessionSpec("mod", Path(sys.argv[1]), "spawn", (Call("c", "solve", ([5, 6],)),), 20.0))
print(len(result["c"].trace.lifetimes))
'''


@pytest.mark.parametrize("mode", ["auto", "bubblewrap", "landlock", "process"])
def test_process_facts_are_observed_behind_every_wall(tmp_path: Path, mode: str) -> None:
    """The supervisor's tracer sees the processes whatever the walls (under bubblewrap,
    which drops CAP_SYS_PTRACE, only if the worker is dumpable when it is seized)."""
    if mode in ("auto", "bubblewrap") and not isolation().bwrap:
        pytest.skip(f"no bubblewrap: {isolation().reason}")
    submission = tmp_path / "mod.py"
    submission.write_text(SOLVE)
    completed = subprocess.run([sys.executable, "-c", OBSERVED, str(submission)], cwd=ROOT, capture_output=True,
                               text=True, timeout=120, env={**os.environ, "GRADE_ISOLATION": mode})
    assert completed.returncode == 0, completed.stderr
    assert int(completed.stdout.strip()) >= 3  # the worker and its two children, at least


def test_a_session_whose_processes_were_not_observed_is_not_graded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where ptrace works, a session the tracer could not attach to is an error of the
    grader, never a verdict on records it could not verify."""
    from grader.check import CheckFailed, Run
    from grader.manifest import load_course
    from grader.results import Status
    from grader.sandbox.session import SessionResult, SessionSpec

    exercise = load_course(ROOT).exercises[2]
    spec = SessionSpec(exercise.module, ROOT / "solutions" / f"{exercise.module}.py", "fork", (), 5.0)
    run = Run(exercise, "fork", SessionResult(spec, {}, 1, 0.1, unobserved="ptrace refused: EPERM"), "en")
    monkeypatch.setattr("grader.check.isolation", lambda: dataclasses.replace(isolation(), ptrace_reason=""))
    with pytest.raises(CheckFailed) as failed:
        run.reject_broken_session()
    assert failed.value.status is Status.ERROR and "could not observe your code's processes" in str(failed.value)
    monkeypatch.setattr("grader.check.isolation", lambda: dataclasses.replace(isolation(), ptrace_reason="refused"))
    run.reject_broken_session()  # a machine without ptrace: graded, degraded, and said once on stderr
