"""Ctrl-C in ``grade watch`` at any moment, pressed on the command's own terminal (a
pseudo-terminal, as in :mod:`test_terminal`): while the sandboxes start (the first time
on a machine, the reference solution is measured then), while a check is graded, and
while it waits for a save; and in a plain ``grade``, from its first instant (while it
imports itself) to its first check. Each time: exit status 130, no traceback, the terminal
as it was, and no process left behind."""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
from pathlib import Path

import pytest

from conftest import descendants
from test_student import make_course
from test_terminal import Terminal

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
LEFT_BEHIND_GRACE_S = 5.0
GRADER_TRACEBACK = re.compile(r"^(Traceback \(most recent call last\):|\w+(Error|Exception|Interrupt)\b)", re.MULTILINE)


def press_ctrl_c_and_check(terminal: Terminal, presses: int = 1, statuses: tuple[int, ...] = (130,)) -> str:
    """Press Ctrl-C (``presses`` times, as an impatient student does), then check how
    the command ended (its exit status one of ``statuses``); what it printed."""
    for _ in range(presses):
        terminal.type("\x03")
        time.sleep(0.1)
    try:
        assert terminal.wait(30) in statuses, terminal.screen[-3000:]
        assert terminal.restored()
    finally:
        terminal.close()
    # the grader's own traceback starts a line; the output of a submission is quoted indented
    assert not GRADER_TRACEBACK.search(terminal.screen), terminal.screen[-3000:]
    deadline = time.monotonic() + LEFT_BEHIND_GRACE_S
    while (left := descendants(os.getpid())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes left running: {left}"
    return terminal.screen


@pytest.mark.parametrize(("live_line", "after_s"), [("starting the sandboxes|exercise-1 · test_", 0.0),
                                                   ("exercise-1 · test_", 0.5)])
def test_ctrl_c_while_the_sandboxes_start(tmp_path: Path, live_line: str, after_s: float) -> None:
    """A fresh clone: the reference solution is measured before the first sessions start,
    while the live line says "starting the sandboxes…" and then names the first check,
    which waits for its session. Ctrl-C as soon as the live line shows, and a little later."""
    course = make_course(tmp_path / "course")
    terminal = Terminal(["watch"], course)
    terminal.expect(live_line)
    time.sleep(after_s)
    assert "✓" not in terminal.screen and "✗" not in terminal.screen, "a check was graded before Ctrl-C"
    screen = press_ctrl_c_and_check(terminal)
    assert "Grading was interrupted (Ctrl-C)" in screen


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_while_a_check_is_graded(tmp_path: Path, presses: int) -> None:
    course = make_course(tmp_path / "course")
    terminal = Terminal(["watch", "2"], course)  # the starter deadlocks: its check waits for the timeout
    terminal.expect(r"exercise-2 · test_")
    time.sleep(0.5)
    press_ctrl_c_and_check(terminal, presses)


def test_ctrl_c_while_waiting_for_a_save(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    terminal = Terminal(["watch", "3", "--start-method", "fork"], course)
    terminal.expect(r"Watching exercises/ex03_queue\.py", timeout=90)
    time.sleep(0.5)
    press_ctrl_c_and_check(terminal)


@pytest.mark.parametrize("moment", ["at once", "live line", "first check"])
def test_ctrl_c_in_a_plain_grade_from_its_first_instant(tmp_path: Path, moment: str) -> None:
    """``grade 3`` on a fresh clone: Ctrl-C before it has printed anything (it is still
    importing itself), when its live line shows (pytest is being imported while the first
    sandboxes start: an import stopped midway could leave its lock held and hang the
    sessions' threads), and once the first check waits for its session."""
    course = make_course(tmp_path / "course")
    terminal = Terminal(["3"], course)
    if moment == "live line":
        terminal.expect(r"starting the sandboxes|exercise-3 · test_")
    elif moment == "first check":
        terminal.expect(r"exercise-3 · test_")
    # At once, the interpreter may not have set up its own handling of SIGINT yet: it then
    # dies of the signal, which a shell reports as 130 too.
    press_ctrl_c_and_check(terminal, statuses=(130, -signal.SIGINT) if moment == "at once" else (130,))
