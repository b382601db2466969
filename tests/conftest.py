"""Shared fixtures of the project's own tests, and the guard that nothing is left running.

The test process makes itself a child subreaper, so any process that escapes a grading
run (a supervisor killed, a daemon that double-forked) is re-parented to it. At the end
of the session every descendant must be gone; otherwise the run fails and names them.

The tests never depend on the developer's language or on the student's work: every
``grade`` they start runs with ``GRADE_LANG=en`` (unless a test asks for another
language), and the starters are graded from a pristine copy (:func:`pristine_starters`),
never from ``exercises/``, which the student edits.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from grader.starters import materialise_starters

ROOT = Path(__file__).resolve().parents[1]
PR_SET_CHILD_SUBREAPER = 36

# The curriculum: the ten exercises the course ships, in order (id, slug, module). A
# teacher may add more (grade new appends them): tests require these, first and in this
# order, never that there are no others.
CURRICULUM = (
    ("exercise-1", "process", "ex01_process"), ("exercise-2", "main-guard", "ex02_main_guard"),
    ("exercise-3", "queue", "ex03_queue"), ("exercise-4", "speedup", "ex04_speedup"),
    ("exercise-5", "pool-map", "ex05_pool_map"), ("exercise-6", "apply-async", "ex06_apply_async"),
    ("exercise-7", "shared-memory", "ex07_shared_memory"), ("exercise-8", "lock", "ex08_lock"),
    ("exercise-9", "drain", "ex09_drain"), ("exercise-10", "word-count", "ex10_word_count"),
)
CURRICULUM_IDS = [ident for ident, _, _ in CURRICULUM]


# The language every grading run of the tests uses, whatever LANG or GRADE_LANG the
# developer has: the tests compare English texts.
TEST_LANGUAGE = {"GRADE_LANG": "en"}


def pytest_configure(config: pytest.Config) -> None:
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    # Also for the subprocesses tests start on their own (not through grade()) and for
    # the grader code they call in this process; --lang and a test's own env still win.
    os.environ.update(TEST_LANGUAGE)


def descendants(pid: int) -> list[tuple[int, str]]:
    """Live (non-zombie) descendants of ``pid``: (pid, command line)."""
    parents: dict[int, list[int]] = {}
    states: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            parents.setdefault(int(fields[1]), []).append(int(entry))
            states[int(entry)] = fields[0]
    found, stack = [], [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            stack.append(child)
            if states.get(child) != "Z":
                try:
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    cmdline = "?"
                found.append((child, cmdline.strip()))
    return found


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput") or not session.config.pluginmanager.has_plugin("dsession"):
        left = [(pid, cmd) for pid, cmd in descendants(os.getpid()) if "execnet" not in cmd]
        if left:
            for pid, _ in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            sys.stderr.write("\nprocesses left running by the test suite (now killed):\n"
                             + "\n".join(f"  {pid} {cmd[:200]}" for pid, cmd in left) + "\n")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def grade(*args: str, timeout: float = 120.0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the ``grade`` command line (as a student would) in the course folder, in English
    (``GRADE_LANG=en``) unless ``env`` or ``--lang`` asks for another language."""
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env={**os.environ, **TEST_LANGUAGE, **(env or {})})


def grade_json(*args: str, timeout: float = 120.0) -> dict:
    completed = grade("--format", "json", *args, timeout=timeout)
    assert completed.returncode in (0, 1), completed.stderr
    try:
        return json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise AssertionError(f"grade {' '.join(args)} (exit status {completed.returncode}) printed no JSON document "
                             f"({error}):\nstdout: {completed.stdout[-2000:]!r}\nstderr: {completed.stderr[-4000:]}") from None


# --- the starters as shipped ------------------------------------------------------------

@pytest.fixture(scope="session")
def pristine_starters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the course's starters as shipped, for ``grade --submission``.

    Each ``exercises/<module>.py`` as shipped (see :mod:`grader.starters`: the version
    at ``$GRADE_STARTERS_REF``, ``origin/HEAD`` or ``HEAD``), so the starter tests pass
    whatever the student has done to ``exercises/``.
    """
    folder = tmp_path_factory.mktemp("starters")
    materialise_starters(ROOT, folder)
    return folder
