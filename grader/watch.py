"""``grade watch``: re-grade an exercise each time its file is saved, move on when it passes.

Three sources feed one queue read by the main thread: file events on ``exercises/``
(watchfiles; editors that save by renaming a new file over the old one are seen too),
a poll of the file's size, time and content every second (where the file system gives
no events: network and container mounts; it also stands in when watchfiles cannot
start), and the keys the student presses (``h`` hint, ``l`` list, ``r`` re-run, ``q``
quit; the terminal is in cbreak mode while watching and restored on every way out).
A change is graded only when the file's content differs from what was last graded, so
an editor's double write grades once. Ctrl-C, at any moment, stops the grading under way
(its sandboxes are killed), restores the terminal and exits with 130, without a traceback.

What a grading imports late (pytest and its plugins, after the first sandboxes started)
is imported before the first grading here: Ctrl-C raises KeyboardInterrupt wherever the
main thread is, and inside an import it can leave CPython's import lock held
(``importlib._bootstrap._get_module_lock``), after which the next sandbox to start (a
fork with ``preexec_fn`` takes that lock) would wait for ever. Before the first grading,
such a Ctrl-C only ends the command; during a grading, there is nothing left to import.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import queue
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from grader.i18n import text
from grader.manifest import Course, Exercise
from grader.progress import file_digest, load_state
from grader.report import Line
from grader.runner import Options
from grader.sandbox.isolation import isolation
from grader.terminal import Terminal

POLL_S = 1.0
DEBOUNCE_MS = 200
KEYS = {"h": "hint", "l": "list", "r": "rerun", "q": "quit"}
EXIT_QUIT, EXIT_INTERRUPTED = 0, 130
# Imported by pytest as it configures itself and names the checks, besides its plugins
# (readline only where Python has it).
PYTEST_LATE_IMPORTS = ("_pytest._argcomplete", "pdb", "encodings.unicode_escape", "readline")


def watch(course: Course, start: Exercise | None, options: Options, language: str) -> int:
    from grader import student
    from grader.cli import grade

    terminal = Terminal(sys.stdout)
    state = load_state(course.root)
    current = start or state.next_exercise(course)
    if current is None:
        print(text("progress.all_passed", language, total=len(course.exercises)))
        return EXIT_QUIT
    if notice := isolation().notice(language):
        print(notice, file=sys.stderr)
    events: queue.Queue[tuple[str, str]] = queue.Queue()
    stop = threading.Event()
    graded_digest = ""

    def run_current(banner: str = "") -> None:
        nonlocal graded_digest, current
        path = course.path_of(current)
        if terminal.styled:
            terminal.console.clear()
        if banner:
            terminal.lines([Line(banner, "bold green")])
        graded_digest = file_digest(path)
        if not path.is_file():
            print(text("watch.missing", language, path=current.file, number=current.number))
        else:
            code = grade(dataclasses.replace(options, selection=(current.id,)), terminal=terminal, announce=False)
            if code == 130:
                raise KeyboardInterrupt
            upcoming = load_state(course.root).next_exercise(course)
            if code == 0 and upcoming is not None and upcoming is not current:
                moved_on = text("watch.moved_on", language, id=current.id, next=upcoming.id)
                current = upcoming
                run_current(moved_on)
                return
            if code == 0 and upcoming is None:
                print(text("watch.all_passed", language), flush=True)
                return
        print(text("watch.watching", language, path=current.file), flush=True)

    with _keys(events, stop), _file_changes(course.exercises_dir, events, stop) as polling:
        try:
            if polling:
                print(text("watch.polling", language, seconds=f"{POLL_S:g}"))
            _import_what_grading_imports()
            run_current()
            while True:
                try:
                    kind, value = events.get(timeout=0.5)
                except queue.Empty:
                    continue
                if kind == "file" and Path(value) == course.path_of(current):
                    if file_digest(course.path_of(current)) != graded_digest:
                        run_current()
                elif kind == "key":
                    action = KEYS.get(value.lower())
                    if action == "quit":
                        return EXIT_QUIT
                    if action == "rerun":
                        run_current()
                    elif action == "hint":
                        state = load_state(course.root)
                        terminal.lines(student.hint(current, state, language, watching=True))
                        state.save()
                    elif action == "list":
                        terminal.lines(student.list_exercises(course, load_state(course.root), language))
        except KeyboardInterrupt:
            print()
            return EXIT_INTERRUPTED


def _import_what_grading_imports() -> None:
    """Import pytest, the plugins a grading loads and what they import late (see the
    module's notes)."""
    from _pytest.config import default_plugins

    for name in ("pytest", *(f"_pytest.{plugin}" for plugin in default_plugins), "pytest_timeout", "grader.plugin",
                 *PYTEST_LATE_IMPORTS):
        with contextlib.suppress(ImportError):  # one pytest does not have: it will not import it either
            importlib.import_module(name)


@contextlib.contextmanager
def _keys(events: queue.Queue, stop: threading.Event) -> Iterator[None]:
    """Keys pressed, one event each; cbreak mode on a terminal (Ctrl-C still interrupts),
    restored on the way out whatever happens."""
    fd = sys.stdin.fileno() if sys.stdin is not None else -1
    saved = None
    if fd >= 0 and os.isatty(fd):
        import termios
        import tty

        saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)

    def read() -> None:
        while not stop.is_set():
            try:
                key = os.read(fd, 1)
            except OSError:
                return
            if not key:  # end of input: no more keys, the file events go on
                return
            events.put(("key", key.decode("utf-8", "replace")))

    if fd >= 0:
        threading.Thread(target=read, name="grade-watch-keys", daemon=True).start()
    try:
        yield
    finally:
        stop.set()
        if saved is not None:
            import termios

            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def _file_changes(folder: Path, events: queue.Queue, stop: threading.Event) -> Iterator[bool]:
    """Changed files of ``folder``, from watchfiles and from a poll every :data:`POLL_S`;
    yields True when only the poll works (watchfiles could not start)."""
    started = threading.Event()
    failed = threading.Event()

    def from_events() -> None:
        try:
            from watchfiles import watch as watch_files

            for changes in watch_files(folder, stop_event=stop, debounce=DEBOUNCE_MS, rust_timeout=500,
                                       yield_on_timeout=True, raise_interrupt=False):
                started.set()
                for _, path in changes:
                    events.put(("file", path))
        except Exception:  # no inotify (limit reached, unsupported file system): the poll goes on
            failed.set()
        finally:
            started.set()

    def from_polling() -> None:
        seen: dict[str, tuple[int, int]] = {}
        while not stop.wait(POLL_S):
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            now = {}
            for entry in entries:
                try:
                    info = entry.stat()
                except OSError:
                    continue
                now[entry.path] = (info.st_mtime_ns, info.st_size)
            for path in set(now) | set(seen):
                if seen and now.get(path) != seen.get(path):
                    events.put(("file", path))
            seen = now

    threading.Thread(target=from_events, name="grade-watch-events", daemon=True).start()
    threading.Thread(target=from_polling, name="grade-watch-poll", daemon=True).start()
    started.wait(2.0)
    try:
        yield failed.is_set()
    finally:
        stop.set()
