"""What a student sees on a terminal: colour, symbols and a live line while checks run.

Styled only when the output is a terminal, ``NO_COLOR`` is unset and ``TERM`` is not
``dumb``; otherwise (piped, redirected, ``--format json``) the plain text of
:mod:`grader.report`, byte for byte. rich is imported only when styling: it costs about
30 ms (measured: ``python -X importtime``, rich.console + rich.live + rich.text on top of
the grader), and nothing when piped.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from grader.i18n import text
from grader.report import Line, render_lines, render_text
from grader.results import CheckResult, Report

if TYPE_CHECKING:
    from rich.console import Console


def styled(stream: IO[str]) -> bool:
    """Whether ``stream`` gets colour and a live line."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


class Terminal:
    """Prints reports and command output on ``stream``, styled where it is a terminal."""

    def __init__(self, stream: IO[str] | None = None, plain: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.styled = not plain and styled(self.stream)
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False, markup=False, emoji=False,
                                    soft_wrap=True)
        return self._console

    def lines(self, lines: list[Line]) -> None:
        if not self.styled:
            self.stream.write("".join(line.text + "\n" for line in lines))
            return
        from rich.text import Text

        for line in lines:
            self.console.print(Text(line.text, style=line.style or ""))

    def report(self, report: Report, language: str, teacher: bool = False) -> None:
        """The report as students see it (``teacher``: hidden checks too)."""
        if self.styled:
            self.lines(render_lines(report, language, teacher))
        else:
            self.stream.write(render_text(report, language, teacher))

    def markdown(self, document: str) -> None:
        if not self.styled:
            self.stream.write(document)
            return
        from rich.markdown import Markdown

        self.console.print(Markdown(document))

    def python(self, source: str) -> None:
        if not self.styled:
            self.stream.write(source if source.endswith("\n") else source + "\n")
            return
        from rich.syntax import Syntax

        self.console.print(Syntax(source, "python", line_numbers=True, word_wrap=True))

    @contextlib.contextmanager
    def live(self, language: str) -> Iterator[LiveLine | None]:
        """A :class:`LiveLine` while checks run (None when not styled: nothing is drawn)."""
        if not self.styled:
            yield None
            return
        with LiveLine(self, language) as line:
            yield line


BAR_WIDTH = 20


class LiveLine:
    """One line redrawn while checks run: the check being graded, its start method and
    how long it has been running, with a bar of the checks done. It disappears when
    the run ends, before the report is printed. An :class:`~grader.runner.Observer`."""

    REFRESH_S = 0.1

    def __init__(self, terminal: Terminal, language: str) -> None:
        self.terminal = terminal
        self.language = language
        self.total = 0
        self.done = 0
        self.current: tuple[str, str, str | None] | None = None
        self.since = time.monotonic()
        self.lock = threading.Lock()
        self._live = None

    def __enter__(self) -> LiveLine:
        from rich.live import Live

        self._live = Live(get_renderable=self._render, console=self.terminal.console, transient=True,
                          refresh_per_second=1 / self.REFRESH_S, redirect_stdout=False, redirect_stderr=False)
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _render(self):
        from rich.text import Text

        spinner = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"[int(time.monotonic() / self.REFRESH_S) % 10]
        with self.lock:
            current, done, total, since = self.current, self.done, self.total, self.since
        line = Text()
        line.append(f"{spinner} ", style="cyan")
        if current is None:
            line.append(text("live.starting", self.language), style="dim")
        else:
            exercise, check, method = current
            line.append(f"{exercise} · {check}" + (f" [{method}]" if method else ""))
            line.append(f"  {time.monotonic() - since:.1f} s", style="dim")
        if total:
            filled = BAR_WIDTH * min(done, total) // total
            line.append("  " + "━" * filled, style="green")
            line.append("━" * (BAR_WIDTH - filled), style="dim")
            line.append(" " + text("live.count", self.language, done=done, total=total), style="dim")
        return line

    # the Observer protocol of grader.runner
    def collected(self, checks: int) -> None:
        with self.lock:
            self.total = checks

    def check_started(self, exercise_id: str, check: str, start_method: str | None) -> None:
        with self.lock:
            self.current = (exercise_id, check, start_method)
            self.since = time.monotonic()

    def check_finished(self, exercise_id: str, result: CheckResult) -> None:
        with self.lock:
            self.done += 1
