"""What a check shows of the output a call printed: its end (where a traceback ends:
the exception), cut at line boundaries (inside the last line only when that line alone
is longer than what is shown: ``print('x' * 10**8)`` shows the end of its x's), without
the frames of the grader's own code, repeated tracebacks collapsed, and a note in the
student's language when cut. The sandbox session reads it through this (its
:class:`~grader.sandbox.session.Excerpt`)."""

from __future__ import annotations

from grader import diagnose
from grader.i18n import text
from grader.sandbox.session import OUTPUT_EXCERPT_CHARS
from grader.sandbox.untrusted import SessionFolder

OUTPUT_WINDOW_BYTES = 64 * 1024  # read from the end of a call's output: the excerpt comes from these


class TailExcerpt:
    def __init__(self, language: str = "en") -> None:
        self.language = language

    def __call__(self, files: SessionFolder, relative: str, start: int, end: int | None,
                 limit: int = OUTPUT_EXCERPT_CHARS) -> str:
        found = files.read(relative, 0, start)
        if found is None:
            return ""
        size = found[1]
        stop = size if end is None else min(end, size)
        total = max(0, stop - start)
        first = max(start, stop - OUTPUT_WINDOW_BYTES)
        data = files.read(relative, stop - first, first)
        content = data[0].decode("utf-8", "replace") if data else ""
        if first > start:  # the window begins inside a line: that line is left out, unless nothing else is there
            rest = content.partition("\n")[2]
            content = rest if rest.strip() else content  # a line longer than the window: its end
        content = diagnose.tidy_output(diagnose.without_grader_frames(content),
                                       text("output.repeated", self.language))  # its {count} filled in there
        shown, cut = diagnose.tail(content, limit)
        if cut or first > start:
            return text("output.truncated", self.language, total=f"{total:,}") + "\n" + shown
        return shown
