"""Every output format of a :class:`~grader.results.Report`, by name, and where each goes.

One results model, many renderers: each format is a function ``render(report, language,
teacher) -> str`` (:class:`Renderer`). A renderer shows what students may see
(:meth:`~grader.results.Report.for_students`) unless ``teacher`` is true (``gradescope``
then marks the hidden checks' tests ``visibility: after_published``).

``--output FILE`` (repeatable) writes one format per file: ``FORMAT:FILE`` names the
format (``gradescope:results.json``), else the file's extension chooses it
(:data:`EXTENSIONS`). Files are written atomically: a reader never sees half of one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from grader.progress import write_atomically
from grader.results import Report

# The module of each format, whose ``render`` renders it (imported when used).
MODULES = {"text": "grader.report", "json": "grader.report", "junit": "grader.formats.junit",
           "gradescope": "grader.formats.gradescope", "markdown": "grader.formats.markdown",
           "github": "grader.formats.github"}
FORMATS = tuple(MODULES)
EXTENSIONS = {".txt": "text", ".json": "json", ".xml": "junit", ".md": "markdown"}
FORMAT_HELP = ("text: feedback for people; json: the grade/1 document; junit: JUnit XML for CI test reports; "
               "gradescope: an autograder results.json; markdown: a table and the failures, for a pull request "
               "comment or $GITHUB_STEP_SUMMARY; github: workflow commands annotating each failure on its line")


class Renderer(Protocol):
    def __call__(self, report: Report, language: str, teacher: bool = False) -> str: ...


class OutputError(ValueError):
    """An ``--output`` whose format cannot be told (the command line's usage error)."""


@dataclass(frozen=True)
class Output:
    """One ``--output``: a file and the format written to it."""

    format: str
    path: Path

    @classmethod
    def parse(cls, value: str) -> Output:
        """``FORMAT:FILE``, or ``FILE`` whose extension tells its format."""
        name, sep, rest = value.partition(":")
        if sep and name in MODULES:
            if not rest:
                raise OutputError(f"--output {value}: no file after '{name}:'")
            return cls(name, Path(rest))
        path = Path(value)
        extension = path.suffix.lower()
        if extension not in EXTENSIONS:
            known = ", ".join(f"{ext} ({fmt})" for ext, fmt in EXTENSIONS.items())
            raise OutputError(f"--output {value}: cannot tell its format from its extension (known: {known}); "
                              f"name it, as in --output gradescope:{value}")
        return cls(EXTENSIONS[extension], path)


def renderer(name: str) -> Renderer:
    """The renderer of the format ``name`` (one of :data:`FORMATS`)."""
    module = importlib.import_module(MODULES[name])
    return getattr(module, f"render_{name}" if name in ("text", "json") else "render")


def render(report: Report, name: str, language: str, teacher: bool = False) -> str:
    return renderer(name)(report, language, teacher)


def write(report: Report, outputs: list[Output], language: str, teacher: bool = False) -> None:
    """Write every output file (its folder made if needed), each atomically."""
    for output in outputs:
        write_atomically(output.path, render(report, output.format, language, teacher).encode("utf-8"))
