"""``grade``: the command line. It validates arguments and calls one function per command.

``grade [EXERCISE...]`` grades (:func:`grader.runner.run`); ``grade COMMAND ...`` runs one
of :data:`~grader.manifest.COMMANDS` (``list``, ``next``, ``show``, ``hint``, ``watch``,
``reset``, ``solution``; for teachers ``new``, ``check``, ``export``, each a module with its
own ``main``). Exit status: 0 when everything selected passed (or the command
did what was asked), 1 when anything failed (or the command could not do it), 2 for a
usage error, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import difflib
import importlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, TypeVar

from grader import __version__
from grader.formats import FORMAT_HELP, FORMATS, Output, OutputError
from grader.formats import render as render_format
from grader.formats import write as write_outputs
from grader.i18n import resolve_language, text
from grader.manifest import (CI_COMMANDS, COMMANDS, START_METHODS, STUDENT_COMMANDS, TEACHER_COMMANDS, Course,
                             Exercise, ManifestError, find_course_root, load_course)
from grader.progress import load_state
from grader.results import Report, Status
from grader.runner import Options, UsageError, run
from grader.sandbox.isolation import isolation
from grader.terminal import LiveLine, Terminal

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
PR_SET_DUMPABLE = 4
COMMAND_HELP = {
    "list": "every exercise with its state, and the next one to do",
    "next": "grade the first exercise not passed yet",
    "show": "the instructions and contract of an exercise",
    "hint": "the next hint of an exercise (one more each time)",
    "watch": "re-grade an exercise each time its file is saved, and move on when it passes",
    "reset": "restore an exercise's starter (your file is backed up first)",
    "solution": "the reference solution of an exercise you have passed",
    "new": "scaffold a new exercise: starter, solution, checks, manifest entry",
    "check": "prove the course sound: solutions pass, starters fail, goldens hold, nothing flaky",
    "export": "write a student copy of the course: no solutions, hidden checks or golden examples",
    "ci": "grade a pull request's exercise files with the checks and grader of its trusted base",
    "batch": "grade a whole class: one JSON per student and a CSV gradebook (resumable, -j, --shard)",
    "report": "what a class got right and wrong: scores, pass rates, failure causes (text, or --html)",
    "gradescope-package": "write a Gradescope autograder (setup.sh, run_autograder) for this course",
}
# A teacher or CI command's module: its ``main(argv) -> int`` parses its own arguments.
COMMAND_MODULES = {"new": "grader.scaffold", "check": "grader.course_check", "export": "grader.export",
                   "ci": "grader.ci", "batch": "grader.batch", "report": "grader.class_report",
                   "gradescope-package": "grader.gradescope_package"}


class _Version(argparse.Action):
    """``--version``: the version and which isolation walls are up (exit status 0)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"grade {__version__}\n{isolation().summary()}")
        parser.exit()


def add_course_option(parser: argparse.ArgumentParser) -> None:
    """``--course DIR``, shared by every command (read back with :func:`course_root`)."""
    parser.add_argument("--course", type=Path, metavar="DIR",
                        help="the course folder (default: the nearest folder with exercises.yaml)")


def course_root(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Path:
    """The course folder: ``--course``, else the nearest folder with exercises.yaml (a usage error without one)."""
    root = args.course or find_course_root()
    if root is None:
        parser.error(f"no exercises.yaml here or above: run {parser.prog} inside the course folder, or pass --course")
    return root


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=("en", "zh"), help="language of the feedback "
                        "(default: GRADE_LANG, then LANG)")
    add_course_option(parser)


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--format`` (what goes to the standard output) and ``--output`` (files, repeatable)."""
    parser.add_argument("--format", choices=FORMATS, default="text", help=f"format of the standard output: {FORMAT_HELP}")
    parser.add_argument("--output", action="append", default=[], metavar="[FORMAT:]FILE",
                        help="also write the results to FILE (repeatable), in FORMAT, else in the format its "
                             "extension tells: .json json, .xml junit, .md markdown, .txt text "
                             "(e.g. --output report.xml --output gradescope:results.json)")


def parse_outputs(parser: argparse.ArgumentParser, values: list[str]) -> tuple[Output, ...]:
    """The ``--output`` files (a usage error for one whose format cannot be told)."""
    try:
        return tuple(Output.parse(value) for value in values)
    except OutputError as error:
        parser.error(str(error))


def _add_grading(parser: argparse.ArgumentParser, formats: bool = True) -> None:
    if formats:
        add_output_options(parser)
    parser.add_argument("--start-method", action="append", default=[], choices=START_METHODS,
                        dest="start_methods", metavar="METHOD",
                        help="only this start method (repeatable): fork, spawn or forkserver")
    parser.add_argument("--seed", type=int, help="seed of the random inputs (to reproduce a run)")
    _add_common(parser)


def build_parser() -> argparse.ArgumentParser:
    """The grading command: ``grade [EXERCISE...] [options]``."""
    def listed(names: tuple[str, ...]) -> str:
        return "\n".join(f"  grade {name:<18} {COMMAND_HELP[name]}" for name in names)

    commands = (f"{listed(STUDENT_COMMANDS)}\n\nFor teachers:\n{listed(TEACHER_COMMANDS)}\n\n"
                f"For CI and grading a class:\n{listed(CI_COMMANDS)}")
    parser = argparse.ArgumentParser(
        prog="grade", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Grade multiprocessing exercises. With no EXERCISE, grade them all in order.\n\n"
                    f"Commands (grade COMMAND --help for each):\n{commands}",
        epilog="Exit status: 0 when everything selected passed, 1 when anything failed, 2 for a usage error, "
               "130 when interrupted.",
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show the version and the isolation walls in force, then exit")
    parser.add_argument("exercises", nargs="*", metavar="EXERCISE",
                        help="exercise id (exercise-3), number (3) or slug (queue)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--submission", type=Path, metavar="PATH",
                        help="a file standing for the exercise's module, or a folder of modules "
                             "(default: exercises/)")
    source.add_argument("--solution", action="store_true", help="grade the reference solutions")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="grade N exercises in parallel (pytest-xdist)")
    parser.add_argument("--stress", type=int, metavar="RUNS",
                        help="grade RUNS times with new inputs each time and show how often each check passed "
                             "(a race that bites only sometimes)")
    parser.add_argument("--teacher", action="store_true",
                        help="show hidden checks in full (names, messages, output), in text and JSON; without it, "
                             "students see only how many failed")
    _add_grading(parser)
    return parser


def build_command_parser(name: str) -> argparse.ArgumentParser:
    """The parser of ``grade NAME`` (one of :data:`COMMANDS`)."""
    parser = argparse.ArgumentParser(prog=f"grade {name}", description=COMMAND_HELP[name][0].upper()
                                     + COMMAND_HELP[name][1:] + ".")
    if name in ("show", "hint", "reset", "solution"):
        parser.add_argument("exercise", metavar="EXERCISE", help="exercise id (exercise-3), number (3) or slug (queue)")
    if name == "watch":
        parser.add_argument("exercise", metavar="EXERCISE", nargs="?",
                            help="the exercise to start with (default: the first one not passed)")
    if name == "reset":
        parser.add_argument("-y", "--yes", action="store_true", help="do not ask before replacing the file")
    if name in ("next", "watch"):
        _add_grading(parser, formats=name == "next")
    else:
        _add_common(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command line (on Linux: :mod:`grader.__main__` checks that first)."""
    # Not dumpable: a submission running as the same (non-root) user cannot read this
    # process's environment or memory, nor open its output, through /proc.
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] in COMMAND_MODULES:
            return importlib.import_module(COMMAND_MODULES[argv[0]]).main(argv[1:])
        if argv and argv[0] in COMMANDS:
            return _command(argv[0], argv[1:])
        return _grade_command(argv)
    except KeyboardInterrupt:  # Ctrl-C outside a grading (which says so itself): no traceback
        print(file=sys.stderr)
        return EXIT_INTERRUPTED


def _grade_command(argv: list[str]) -> int:
    """``grade [EXERCISE...] [options]``: grade, or ``--stress``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("-j/--jobs must be at least 1")
    if args.stress is not None and not 1 <= args.stress <= 1000:
        parser.error("--stress takes a number of runs from 1 to 1000")
    if args.stress is not None and (args.format not in ("text", "json") or args.output):
        parser.error("--stress prints text or json (--format), and writes no --output file")
    outputs = parse_outputs(parser, args.output)
    if args.submission is not None and not args.submission.exists():
        parser.error(f"--submission {args.submission}: no such file or folder")
    root = course_root(parser, args)
    if unknown := _unknown_selection(root, args.exercises, resolve_language(args.lang)):
        print(f"grade: error: {unknown}", file=sys.stderr)
        return EXIT_USAGE
    options = Options(
        course_root=root, selection=tuple(args.exercises), submission=args.submission,
        solution=args.solution, start_methods=tuple(args.start_methods), jobs=args.jobs,
        seed=args.seed, language=args.lang, teacher=args.teacher,
    )
    if args.stress is not None:
        return stress_test(options, args.stress, args.format)
    return grade(options, args.format, outputs=outputs)


def _unknown_selection(root: Path, names: list[str], language: str) -> str:
    """The error for the first of ``names`` that selects no exercise; '' when all do,
    or when the course cannot be loaded (the grading says why)."""
    if not names:
        return ""
    try:
        course = load_course(root)
    except ManifestError:
        return ""
    unknown = next((name for name in names if course.select(name) is None), None)
    return "" if unknown is None else _unknown_exercise(course, unknown, language)


def _unknown_exercise(course: Course, name: str, language: str) -> str:
    """Why ``name`` selects no exercise: the closest exercise by slug or module name,
    when one is close (``qeue``: exercise-3 (queue)), then every valid one. Ids and
    numbers are not guessed at: exercise-42 is as near exercise-4 as exercise-2."""
    valid = ", ".join(f"{ex.id} ({ex.slug})" for ex in course.exercises)
    by_word = {word: exercise for exercise in course.exercises for word in (exercise.slug, exercise.module)}
    close = difflib.get_close_matches(name.strip().lower(), list(by_word), n=1)
    if not close:
        return text("cli.unknown_exercise", language, name=repr(name), valid=valid)
    guess = by_word[close[0]]
    return text("cli.did_you_mean", language, name=repr(name), id=guess.id, slug=guess.slug, valid=valid)


def grade(options: Options, output_format: str = "text", terminal: Terminal | None = None,
          announce: bool = True, outputs: tuple[Output, ...] = ()) -> int:
    """Grade, print the report (and write it to ``outputs``), remember the student's
    progress; the exit status. ``announce``: say which isolation walls are missing (once
    per command)."""
    language = resolve_language(options.language)
    terminal = terminal or Terminal(sys.stdout, plain=output_format != "text")
    report = _live(lambda live: run(options, live), terminal, language, announce)
    if report is None:
        return EXIT_USAGE
    written = publish(report, output_format, outputs, language, options.teacher, terminal)
    if options.submission is None and not options.solution:
        _remember(options.course_root, report, options.language)
    return exit_status(report) if written else EXIT_USAGE


def publish(report: Report, output_format: str, outputs: tuple[Output, ...], language: str, teacher: bool,
            terminal: Terminal) -> bool:
    """Print the report in ``output_format`` and write the ``outputs`` files; False when
    a file could not be written (said on stderr)."""
    if output_format == "text":
        terminal.report(report, language, teacher)
    else:
        sys.stdout.write(render_format(report, output_format, language, teacher))
    sys.stdout.flush()
    try:
        write_outputs(report, list(outputs), language, teacher)
    except OSError as error:
        print(f"grade: error: cannot write {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return False
    return True


def exit_status(report: Report) -> int:
    """0 when everything graded passed, 1 when anything did not, 130 when interrupted."""
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_PASSED if report.status is Status.PASSED else EXIT_FAILED


def stress_test(options: Options, runs: int, output_format: str = "text") -> int:
    """``--stress``: grade ``runs`` times and print each check's pass rate; 0 when every
    check passed every run."""
    from grader.stress import render, stress

    language = resolve_language(options.language)
    terminal = Terminal(sys.stdout, plain=output_format == "json")
    result = _live(lambda live: stress(options, runs, live), terminal, language)
    if result is None:
        return EXIT_USAGE
    if output_format == "json":
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        terminal.lines(render(result, language))
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_PASSED if result.all_passed else EXIT_FAILED


Graded = TypeVar("Graded")


def _live(work: Callable[[LiveLine | None], Graded], terminal: Terminal, language: str,
          announce: bool = True) -> Graded | None:
    """Run ``work`` (a grading) with the terminal's live line; None after a usage or
    manifest error, said on stderr. ``announce``: say first which isolation walls are
    missing, when any is (once per command)."""
    if announce and (notice := isolation().notice(language)):
        print(notice, file=sys.stderr)
    with _CtrlC() as ctrl_c:
        try:
            with terminal.live(language) as live:
                return work(live)
        except (UsageError, ManifestError) as error:
            print(f"grade: error: {error}", file=sys.stderr)
            return None
        except Exception:
            if not ctrl_c.pressed:
                raise  # a fault of the grader: its traceback is the report to file
            # Ctrl-C stopped the grading on its way (a sandbox session stopped before it
            # started, a measurement cut short): that is the interruption, not a fault.
            print(text("cli.interrupted", language), file=sys.stderr)
            raise KeyboardInterrupt from None


class _CtrlC:
    """Notes whether Ctrl-C (SIGINT) came while it is entered, and raises
    KeyboardInterrupt as Python's own handler does. Installed only where Python's own
    handler is (the main thread; not where SIGINT is ignored or handled by another),
    and put back on the way out."""

    def __init__(self) -> None:
        self.pressed = False
        self._installed = False

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self._installed = False

    def _handle(self, signum: int, frame: object) -> None:
        self.pressed = True
        signal.default_int_handler(signum, frame)


def _remember(root: Path, report: Report, report_language: str | None) -> None:
    try:
        course = load_course(root)
    except ManifestError:
        return
    state = load_state(root)
    partial = state.record(course, report.for_students())  # the state file is the student's to read
    state.save()
    _warn(state.warnings)
    for exercise in partial:
        print(text("progress.partial", resolve_language(report_language), id=exercise.id,
                   methods=", ".join(exercise.start_methods)), file=sys.stderr)


def _command(name: str, argv: list[str]) -> int:
    parser = build_command_parser(name)
    args = parser.parse_args(argv)
    root = course_root(parser, args)
    language = resolve_language(args.lang)
    try:
        course = load_course(root)
    except ManifestError as error:
        print(f"grade {name}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    exercise = None
    if getattr(args, "exercise", None) is not None:
        exercise = course.select(args.exercise)
        if exercise is None:
            print(f"grade {name}: error: {_unknown_exercise(course, args.exercise, language)}", file=sys.stderr)
            return EXIT_USAGE
    options = Options(course_root=root, start_methods=tuple(getattr(args, "start_methods", ())),
                      seed=getattr(args, "seed", None), language=args.lang)
    if name == "next":
        return _next(course, options, args.format, language, parse_outputs(parser, args.output))
    if name == "watch":
        from grader.watch import watch

        return watch(course, exercise, options, language)
    return _student_command(name, course, exercise, args, language)


def _next(course: Course, options: Options, output_format: str, language: str,
          outputs: tuple[Output, ...]) -> int:
    state = load_state(course.root)
    _warn(state.warnings)
    upcoming = state.next_exercise(course)
    if upcoming is None:
        print(text("progress.all_passed", language, total=len(course.exercises)))
        return EXIT_PASSED
    return grade(dataclasses.replace(options, selection=(upcoming.id,)), output_format, outputs=outputs)


def _student_command(name: str, course: Course, exercise: Exercise | None, args: argparse.Namespace,
                     language: str) -> int:
    """``list``, ``show``, ``hint``, ``reset``, ``solution``: print what the command gives,
    or its error on one line; save the progress when the command changes it."""
    from grader import student

    state = load_state(course.root)
    _warn(state.warnings)
    terminal = Terminal(sys.stdout)
    try:
        if name == "list":
            terminal.lines(student.list_exercises(course, state, language))
        elif name == "show":
            terminal.markdown(student.show(course, exercise, state, language))
        elif name == "hint":
            terminal.lines(student.hint(exercise, state, language))
        elif name == "reset":
            confirm = _yes if args.yes else lambda question: _ask(question, language)
            terminal.lines(student.reset(course, exercise, state, language, confirm))
        else:
            terminal.python(student.solution(course, exercise, state, language))
    except student.CommandError as error:
        print(f"grade {name}: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if name in ("hint", "reset"):
            state.warnings.clear()
            state.save()
            _warn(state.warnings)
    return EXIT_PASSED


def _yes(question: str) -> bool:
    return True


def _ask(question: str, language: str) -> bool:
    """Ask on the terminal; without one, say that nothing can be asked."""
    if not sys.stdin.isatty():
        from grader.student import CommandError

        raise CommandError(text("reset.no_terminal", language))
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes", "是")
    except EOFError:
        return False


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(warning, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
