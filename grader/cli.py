"""``grade``: the command line. It validates arguments and calls :func:`grader.runner.run`."""

from __future__ import annotations

import argparse
import ctypes
import sys
from pathlib import Path

from grader import __version__
from grader.i18n import resolve_language, text
from grader.manifest import START_METHODS, ManifestError, find_course_root
from grader.report import render_json, render_text
from grader.results import Status
from grader.runner import Options, UsageError, run
from grader.sandbox.isolation import isolation

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Version(argparse.Action):
    """``--version``: the version and which isolation walls are up (exit status 0)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"grade {__version__}\n{isolation().summary()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade",
        description="Grade multiprocessing exercises. With no EXERCISE, grade them all in order.",
        epilog="Exit status: 0 when everything selected passed, 1 when anything failed, 2 for a usage error.",
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
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("--start-method", action="append", default=[], choices=START_METHODS,
                        dest="start_methods", metavar="METHOD",
                        help="only this start method (repeatable): fork, spawn or forkserver")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="grade N exercises in parallel (pytest-xdist)")
    parser.add_argument("--seed", type=int, help="seed of the random inputs (to reproduce a run)")
    parser.add_argument("--lang", choices=("en", "zh"), help="language of the feedback "
                        "(default: GRADE_LANG, then LANG)")
    parser.add_argument("--course", type=Path, metavar="DIR",
                        help="the course folder (default: the nearest folder with exercises.yaml)")
    return parser


PR_SET_DUMPABLE = 4


def main(argv: list[str] | None = None) -> int:
    # Not dumpable: a submission running as the same (non-root) user cannot read this
    # process's environment or memory, nor open its output, through /proc.
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("-j/--jobs must be at least 1")
    if args.submission is not None and not args.submission.exists():
        parser.error(f"--submission {args.submission}: no such file or folder")
    root = args.course or find_course_root()
    if root is None:
        parser.error("no exercises.yaml here or above: run grade inside the course folder, or pass --course")
    options = Options(
        course_root=root, selection=tuple(args.exercises), submission=args.submission,
        solution=args.solution, start_methods=tuple(args.start_methods), jobs=args.jobs,
        seed=args.seed, language=args.lang,
    )
    language = resolve_language(args.lang)
    iso = isolation()
    if notice := iso.notice(language):  # once, when a wall the mode asks for is missing
        print(notice, file=sys.stderr)
    try:
        report = run(options)
    except (UsageError, ManifestError) as error:
        print(f"grade: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        sys.stdout.write(render_json(report) + "\n")
    else:
        sys.stdout.write(render_text(report, language))
    sys.stdout.flush()
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_PASSED if report.status is Status.PASSED else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
