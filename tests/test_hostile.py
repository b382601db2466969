"""Hostile submissions are contained: each ends in a non-passing verdict, in bounded
time, with one complete JSON document on stdout (the session guard in conftest.py then
checks that nothing they started is still running)."""

from __future__ import annotations

import json
import os
import time

import pytest

from conftest import ROOT, grade
from grader.manifest import load_course
from grader.sandbox.boot import _grade_landlock
from grader.sandbox.isolation import isolation
from grader.timeouts import Timeouts

HOSTILE = ROOT / "tests" / "examples" / "hostile"

# case: (verdicts it may get, a fragment of the first failing message)
CASES = {
    "endless_loop": ({"timeout"}, "did not finish within "),  # exercise-3's timeout: grader/timeouts.py
    "endless_output": ({"failed"}, "wrote more than 4 MiB"),
    "exit_at_import": ({"failed"}, "exited with code 0 before the function finished"),
    "os_exit_in_function": ({"failed"}, "exited with code 0 before the function finished"),
    "kill_parent": ({"failed"}, "killed the grader's process that was watching it"),
    "kill_process_group": ({"failed"}, "killed by SIGKILL"),
    "setsid_daemon": ({"failed"}, "were still running"),
    "sleeping_leak": ({"failed"}, "were still running: process"),
    "fake_pass_print": ({"failed"}, "Expected: collect("),
    "patch_pytest": ({"failed"}, "Expected: collect("),
    "memory_hog": ({"failed"}, "more than 1024 MiB of memory"),
    "memory_hog_many": ({"failed"}, "together used more than 1536 MiB of memory"),
    "fork_bomb": ({"failed"}, "too many processes"),
}
# Where Landlock scopes signals (ABI 6), or where the submission runs as a user of its own
# (a root grader), the kernel refuses the kill itself.
REFUSED_CASES = {
    "kill_parent": ({"failed"}, "raised PermissionError: [Errno 1] Operation not permitted"),
}
LANDLOCK_ABI, NO_LANDLOCK = _grade_landlock.abi()


@pytest.mark.parametrize("mode", ["bubblewrap", "landlock", "process"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_submission_is_contained(case: str, mode: str) -> None:
    """Under each wall alone (``GRADE_ISOLATION=bubblewrap``, ``landlock``) and under the
    process-level sandbox (``process``)."""
    if mode == "bubblewrap" and not isolation().bwrap:
        pytest.skip(f"no bubblewrap: {isolation().reason}")
    if mode == "landlock" and not LANDLOCK_ABI:
        pytest.skip(f"no Landlock: {NO_LANDLOCK}")
    if case == "fork_bomb" and not isolation().pids_cgroup and os.geteuid() == 0:
        pytest.skip("root without a pids cgroup: nothing but the clock would stop a fork bomb")
    if case == "memory_hog_many" and not isolation().memory_cgroup:
        pytest.skip("no memory cgroup per session: only the limit per process holds")
    verdicts, fragment = CASES[case]
    if mode == "landlock" and LANDLOCK_ABI >= 6 or isolation().own_user:
        verdicts, fragment = REFUSED_CASES.get(case, CASES[case])
    started = time.monotonic()
    completed = grade("exercise-3", "--submission", str(HOSTILE / case / "ex03_queue.py"), "--format", "json",
                      env={"GRADE_ISOLATION": mode})
    elapsed = time.monotonic() - started
    assert completed.returncode == 1, completed.stderr
    report = json.loads(completed.stdout)  # exactly one JSON document, whatever was printed
    assert report["status"] == "failed" and report["score"] == 0
    (exercise,) = report["exercises"]
    assert exercise["status"] in verdicts
    failing = [check for check in exercise["checks"] if check["status"] != "passed"]
    assert failing and fragment in failing[0]["message"], failing[0]["message"] if failing else exercise
    course = load_course(ROOT)
    timeout = Timeouts(course).resolve(course.select("exercise-3")).seconds
    assert elapsed < 2 * timeout + 10, f"{case} took {elapsed:.1f} s"


def test_printed_success_does_not_reach_the_verdict() -> None:
    completed = grade("exercise-3", "--submission", str(HOSTILE / "fake_pass_print" / "ex03_queue.py"))
    assert completed.returncode == 1
    assert "FAILED" in completed.stdout
