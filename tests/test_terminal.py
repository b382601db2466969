"""``grade`` in a real terminal, as a student uses it: a pseudo-terminal that is the
controlling terminal of the command (so Ctrl-C is the terminal's, not a signal the test
sends), colour when styled, ``grade watch`` driven by saving files and pressing keys."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from conftest import TEST_LANGUAGE
from test_student import make_course, total

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


class Terminal:
    """A command on a pseudo-terminal: what it printed so far, and keys to type."""

    def __init__(self, args: list[str], cwd: Path, **env: str) -> None:
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 150, 0, 0))
        self.modes = termios.tcgetattr(self.slave)
        environment = {**os.environ, **TEST_LANGUAGE, "TERM": "xterm-256color", **env}
        if "NO_COLOR" not in env:
            environment.pop("NO_COLOR", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader", *args], cwd=cwd, env=environment, stdin=self.slave,
            stdout=self.slave, stderr=self.slave, start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        self.raw = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.raw += chunk

    @property
    def screen(self) -> str:
        return ESCAPES.sub("", self.raw.decode("utf-8", "replace"))

    def expect(self, pattern: str, timeout: float = 60.0, after: int = 0) -> int:
        """Wait until ``pattern`` (a regular expression) is printed after position ``after``
        of :attr:`screen`; the position where it ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.compile(pattern).search(self.screen, after)
            if match:
                return match.end()
            if self.process.poll() is not None:
                time.sleep(0.2)
                match = re.compile(pattern).search(self.screen, after)
                if match:
                    return match.end()
                break
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not printed within {timeout} s; the screen:\n{self.screen[-4000:]}")

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait(self, timeout: float = 30.0) -> int:
        code = self.process.wait(timeout)
        self.reader.join(1)
        return code

    def restored(self) -> bool:
        """Whether the terminal's modes are what they were before the command ran
        (``grade watch`` puts it in cbreak mode while it watches)."""
        return termios.tcgetattr(self.slave) == self.modes

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.reader.join(1)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return make_course(tmp_path / "course")


def test_watch_moves_on_gives_hints_and_quits_cleanly(course: Path) -> None:
    shutil.copyfile(course / "solutions" / "ex02_main_guard.py", course / "exercises" / "ex02_main_guard.py")
    terminal = Terminal(["watch", "1"], course)  # all start methods: a pass under some is no pass
    try:
        seen = terminal.expect(r"Watching exercises/ex01_process\.py \(keys: h hint")
        assert "FAILED" in terminal.screen
        shutil.copyfile(course / "solutions" / "ex01_process.py", course / "exercises" / "ex01_process.py")
        seen = terminal.expect(r"exercise-2 passed: moving on to exercise-3", after=seen)
        seen = terminal.expect(r"Watching exercises/ex03_queue\.py", after=seen)
        terminal.type("h")
        seen = terminal.expect(r"exercise-3, hint 1 of 3:\n  join\(\) waits", after=seen)
        terminal.type("l")
        seen = terminal.expect(rf"2/{total(course)} passed\.  Next: grade queue", after=seen)
        terminal.type("q")
        assert terminal.wait() == 0
        assert terminal.restored()
    finally:
        terminal.close()
    assert "\x1b[" in terminal.raw.decode()  # a terminal gets colour


def test_watch_regrades_only_when_the_content_changed(course: Path) -> None:
    terminal = Terminal(["watch", "3", "--start-method", "fork"], course)
    try:
        seen = terminal.expect(r"Watching exercises/ex03_queue\.py")
        exercise = course / "exercises" / "ex03_queue.py"
        os.utime(exercise)  # touched, not changed: no grading
        time.sleep(2.5)
        assert terminal.screen.count("Watching exercises/ex03_queue.py") == 1
        exercise.write_text(exercise.read_text() + "\n# edited\n")  # changed: graded again
        terminal.expect(r"Watching exercises/ex03_queue\.py", after=seen)
        terminal.type("q")
        assert terminal.wait() == 0
    finally:
        terminal.close()


def test_ctrl_c_during_a_hang_restores_the_terminal_and_leaves_nothing_running(course: Path) -> None:
    terminal = Terminal(["watch", "2", "--start-method", "fork"], course)  # the starter deadlocks
    try:
        terminal.expect(r"exercise-2 · test_")  # the live line: a check is being graded
        time.sleep(0.5)
        terminal.type("\x03")  # Ctrl-C, through the terminal
        assert terminal.wait(20) == 130
        assert terminal.restored()
    finally:
        terminal.close()


def test_colour_only_on_a_terminal_without_no_color(course: Path) -> None:
    coloured = Terminal(["list"], course)
    assert coloured.wait() == 0
    coloured.close()
    assert "\x1b[" in coloured.raw.decode() and f"0/{total(course)} passed." in coloured.screen
    plain = Terminal(["list"], course, NO_COLOR="1")
    assert plain.wait() == 0
    plain.close()
    assert "\x1b[" not in plain.raw.decode()
    as_json = Terminal(["1", "--format", "json", "--start-method", "fork"], course)
    assert as_json.wait(60) == 1
    as_json.close()
    assert "\x1b[" not in as_json.raw.decode() and as_json.screen.lstrip().startswith("{")


def test_where_the_file_system_gives_no_events_the_poll_sees_a_save(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import queue as queues

    from grader import watch

    monkeypatch.setitem(sys.modules, "watchfiles", None)  # import fails, as where inotify is missing
    events: queues.Queue = queues.Queue()
    stop = threading.Event()
    exercise = tmp_path / "ex03_queue.py"
    exercise.write_text("# before\n")
    with watch._file_changes(tmp_path, events, stop) as polling:
        assert polling
        time.sleep(watch.POLL_S * 1.5)
        exercise.write_text("# after, longer\n")
        kind, path = events.get(timeout=watch.POLL_S * 4)
    assert (kind, Path(path)) == ("file", exercise)


def test_the_live_line_keeps_moving_while_a_check_waits(course: Path) -> None:
    """exercise-9's starter deadlocks: its first check waits about 1.5 s for the session.
    The live line is redrawn meanwhile (pytest captures only sys.stdout, not the terminal's
    file descriptor, which the live line writes to): its seconds count up."""
    terminal = Terminal(["9", "--start-method", "fork"], course)
    try:
        assert terminal.wait(60) == 1
    finally:
        terminal.close()
    seconds = [float(s) for s in re.findall(r"exercise-9 · test_\w+[^\n\r]*?(\d+\.\d) s", terminal.raw.decode())]
    assert seconds and max(seconds) >= 0.5, seconds
