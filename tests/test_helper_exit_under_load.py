"""Issue 15: a script's multiprocessing helpers exit by themselves after it, later on a
loaded CPU, and are then no leftover; a process that only says it is one gains nothing.

The reference solution of exercise-2 lost ``test_script_prints_squares[forkserver]`` now
and then on a loaded machine: "returned while 1 process(es) it started were still
running: process N (python3.11)". That was the fork server, exiting: in the kernel's
exit, past the point where its memory is dropped, so that its command line read empty
(hence only its name in the message) although it was not a zombie yet. The supervisor
knew helpers only by their command line, so it judged this one a leftover at the first
deadline (0.3 s); and a helper it did recognise got a fixed 2 s, which a starved one
can outlive.

The timing is forced here, not left to the machine's load: the script has its fork
server preload a module whose exit hook pins the server to one CPU beside a child that
spins there for a while (:data:`BURN_S`), and lowers the server's priority, so that it
gets almost no CPU meanwhile: in Python until the child has exited (past the old 2 s), or
in the kernel's exit, freeing memory (its command line empty at the old 0.3 s). The child
exits by itself too. Neither is a leftover, and the check of the issue passes. A process
that says it is a helper (its command line) and never exits is a leftover, killed, even
when it keeps itself off the CPU to look like a helper on a loaded machine; and so is a
process whose main thread has exited while another of its threads runs (the kernel
shows it as a zombie).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from conftest import ROOT, grade
from grader.sandbox import Call, SessionSpec, run_session
from grader.sandbox.session import BOOT_DIR

SOLUTION = ROOT / "solutions" / "ex02_main_guard.py"


def supervisor_constant(name: str) -> float:
    """A constant of the supervisor (not importable here: it imports its neighbours by name)."""
    tree = ast.parse((BOOT_DIR / "_grade_supervisor.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise LookupError(name)


LEAK_GRACE_S = supervisor_constant("LEAK_GRACE_S")
HELPER_EXIT_GRACE_S = supervisor_constant("HELPER_EXIT_GRACE_S")
# How long the fork server is kept off the CPU at its exit, in Python or in the kernel's
# exit, and what the supervisor judged it by, before: it outlived the 2 s given to a helper
# it recognised; or it was judged at the first deadline, its command line reading empty.
BURN_S = {False: 3.0, True: 1.5}
JUDGED_AT = {False: HELPER_EXIT_GRACE_S, True: LEAK_GRACE_S}

# Put before the reference solution: when run as a script, it has the fork server import
# STARVED_EXIT (written to the current folder, which a ``python -c`` finds) as it starts.
PRELUDE = """if __name__ == "__main__":
    import multiprocessing as _mp
    with open("starved_exit.py", "w") as _file:
        _file.write({hook!r})
    _mp.set_forkserver_preload(["starved_exit"])

"""

# Imported by the fork server only, as it starts; its children inherit the exit hook, but
# they end with os._exit, which runs none.
STARVED_EXIT = """import atexit, mmap, os, time

BURN_S, IN_KERNEL = {burn_s!r}, {in_kernel!r}
if IN_KERNEL:  # memory for the kernel to free when this process exits (its children get none of it)
    MEMORY = mmap.mmap(-1, 128 << 20)
    MEMORY.madvise(mmap.MADV_DONTFORK)
    for page in range(0, len(MEMORY), mmap.PAGESIZE):
        MEMORY[page] = 1


def starved_exit():
    \"\"\"The fork server's exit, on a CPU somebody else has: a child spins on this CPU for
    BURN_S seconds, while this process runs at the lowest priority there: in Python, or in
    the kernel's exit (freeing MEMORY, its command line reading empty meanwhile).\"\"\"
    os.sched_setaffinity(0, {{min(os.sched_getaffinity(0))}})
    burner = os.fork()
    if burner == 0:
        end = time.monotonic() + BURN_S
        while time.monotonic() < end:
            pass
        os._exit(0)
    os.nice(19)
    if not IN_KERNEL:
        while os.waitpid(burner, os.WNOHANG) == (0, 0):
            pass
    os._exit(0)  # nothing more to do in Python at nice 19 once the CPU is free (others may want it)


atexit.register(starved_exit)
"""

FAKE_HELPERS = '''
import os, subprocess, sys, time

CLAIM = "from multiprocessing.resource_tracker import main; "  # what multiprocessing's helper runs


def fake(code):
    """Starts ``python -c CLAIM + code``; its pid, also written to fake.pid for gone()."""
    pid = subprocess.Popen([sys.executable, "-c", CLAIM + code]).pid
    with open("fake.pid", "w") as file:
        file.write(str(pid))
    return pid


def sleeping_helper():
    """Says it is a helper, and sleeps for ever."""
    return fake("import time; time.sleep(600)")


def starved_helper():
    """Says it is a helper, and starves itself for ever: pinned beside a spinning child
    (which says so too), at the lowest priority, as a helper on a loaded CPU would be."""
    return fake("import os\\n"
                "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\\n"
                "if os.fork() == 0:\\n"
                "    while True: pass\\n"
                "os.nice(19)\\n"
                "while True: pass\\n")


def headless():
    """A child whose main thread exits while another of its threads runs on: the kernel
    shows the process as a zombie, but it is still running."""
    import ctypes, threading
    pid = os.fork()
    if pid == 0:
        threading.Thread(target=time.sleep, args=(600,)).start()
        ctypes.CDLL(None).syscall(60, 0)  # SYS_exit: only the calling thread
    time.sleep(0.2)
    return pid


def gone():
    """Whether the process fake() started (in an earlier call) has exited (its pidfd is
    readable, or it is reaped already)."""
    import select
    with open("fake.pid") as file:
        pid = int(file.read())
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], 0)[0])
    finally:
        os.close(fd)
'''


def slow_exit_solution(tmp_path: Path, in_kernel: bool) -> Path:
    path = tmp_path / "ex02_main_guard.py"
    hook = STARVED_EXIT.format(burn_s=BURN_S[in_kernel], in_kernel=in_kernel)
    path.write_text(PRELUDE.format(hook=hook) + SOLUTION.read_text())
    return path


@pytest.mark.parametrize("in_kernel", [False, True], ids=["exiting_in_python", "exiting_in_the_kernel"])
def test_a_starved_fork_server_is_no_leftover(tmp_path: Path, in_kernel: bool) -> None:
    """The fork server and its spinning child exit by themselves, after the moment the
    supervisor used to judge the server (in the kernel's exit, its command line reads
    empty: the issue's "process N (python3.11)"). Neither is a leftover."""
    submission = slow_exit_solution(tmp_path, in_kernel)
    result = run_session(SessionSpec("ex02_main_guard", submission, "forkserver",
                                     (Call("script", "ex02_main_guard.py", kind="script"),), 30.0))
    script = result["script"]
    assert script.status == "exited" and script.exit_code == 0, (script.status, script.stderr)
    assert str([x * x for x in range(10)]) in script.stdout
    assert script.leaks == []
    # The timing really was forced: the fork server (the script's child that ran another
    # program and had children) ended by itself (exit code 0) after it used to be judged.
    seen = script.trace.kernel.processes
    servers = [p for p in seen.values()
               if p.exec and p.t0 >= script.t0 and any(c.ppid == p.pid and not c.exec for c in seen.values())]
    assert len(servers) == 1, servers
    (server,) = servers
    assert server.exit == 0
    assert server.t_end is not None and script.t_end is not None
    assert server.t_end - script.t_end > JUDGED_AT[in_kernel], server.t_end - script.t_end


def test_the_solution_with_a_starved_fork_server_passes_the_check(tmp_path: Path) -> None:
    """The check of the issue, graded as a student's run grades it."""
    submission = slow_exit_solution(tmp_path, in_kernel=True)
    completed = grade("exercise-2", "--submission", str(submission), "--start-method", "forkserver",
                      "--teacher", "--format", "json", timeout=180)
    document = json.loads(completed.stdout)
    checks = {check["name"]: check for exercise in document["exercises"] for check in exercise["checks"]}
    script = checks["test_script_prints_squares"]
    assert script["status"] == "passed", script["message"]
    assert completed.returncode == 0, [(c["name"], c["message"]) for c in checks.values() if c["status"] != "passed"]


def fake_helpers(tmp_path: Path) -> Path:
    path = tmp_path / "fakes.py"
    path.write_text(FAKE_HELPERS)
    return path


def test_a_fake_helper_that_never_exits_is_a_leftover_and_is_killed(tmp_path: Path) -> None:
    """Its command line says resource tracker: it still is a leftover once it has had the
    helpers' time (it sleeps: no load makes that time longer), and it is killed before
    the next call starts."""
    result = run_session(SessionSpec("fakes", fake_helpers(tmp_path), "fork",
                                     (Call("fake", "sleeping_helper"), Call("gone", "gone")), 30.0))
    fake = result["fake"]
    assert fake.status == "returned"
    assert [leak["pid"] for leak in fake.leaks] == [fake.value]
    assert "multiprocessing.resource_tracker import main" in fake.leaks[0]["cmdline"]
    waited = result["gone"].t0 - fake.t_end
    assert HELPER_EXIT_GRACE_S <= waited < supervisor_constant("HELPER_EXIT_MAX_S"), waited
    assert result["gone"].status == "returned" and result["gone"].value is True


def test_a_fake_helper_starving_itself_gains_nothing(tmp_path: Path) -> None:
    """Starved of CPU for ever by its own child, it looks like a helper on a loaded CPU:
    it is waited for longer than on an idle one, but no longer than HELPER_EXIT_MAX_S;
    then it and its child are leftovers, killed."""
    result = run_session(SessionSpec("fakes", fake_helpers(tmp_path), "fork",
                                     (Call("fake", "starved_helper"), Call("gone", "gone")), 30.0))
    fake = result["fake"]
    assert fake.status == "returned"
    assert len(fake.leaks) == 2, fake.leaks
    assert fake.value in [leak["pid"] for leak in fake.leaks]
    assert all("multiprocessing.resource_tracker import main" in leak["cmdline"] for leak in fake.leaks)
    most = supervisor_constant("HELPER_EXIT_MAX_S")
    waited = result["gone"].t0 - fake.t_end
    assert most - 0.5 <= waited < most + 3.0, waited
    assert result["gone"].status == "returned" and result["gone"].value is True


def test_a_process_whose_main_thread_exited_is_still_a_leftover(tmp_path: Path) -> None:
    """The kernel shows it as a zombie (its main thread is one), but a thread of it runs."""
    result = run_session(SessionSpec("fakes", fake_helpers(tmp_path), "fork", (Call("headless", "headless"),), 30.0))
    headless = result["headless"]
    assert headless.status == "returned"
    assert [leak["pid"] for leak in headless.leaks] == [headless.value]

