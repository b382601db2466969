"""``grade ci --base REF``: grade a pull request's exercise files with the trusted base.

A pull request may change anything in the repository, the checks and the grader
included; only its exercise files are its to change. So this command takes from the
pull request nothing but the files ``exercises/<module>.py`` of the base's exercises,
and grades them with the base's own grader, checks, manifest and reference solutions:

1. the base commit's tree is extracted (``git archive``) into a temporary folder;
2. the exercise files to grade (those the pull request changed, or all with ``--all``)
   are copied from the working tree into another one: regular files only (a symbolic
   link, which could point at a reference solution or anywhere else, is not a
   submission and grades as missing);
3. the base's grader grades them there (``python -m grader``, run in the base's
   folder, so it imports the base's ``grader`` package, never the pull request's), its
   submissions in its sandbox as always, and hands back its complete report as JSON;
4. the report names the base, the exercise files graded and every other changed file,
   ignored; it is printed and written in the formats asked for.

"Changed" means different in the working tree (committed or not, or new and not
ignored by git) from the merge base of REF and ``HEAD``. A student cannot raise a
grade by editing anything but their exercise files: a changed check, manifest, test,
workflow or grader is listed as ignored and has no effect on the verdict.

The code running this command must itself be trusted: in CI, install the grader from
the base (the shipped workflow does) and run it in the pull request's checkout. Run
from the pull request's own checkout, ``grade ci`` is only as trustworthy as that code.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from grader.cli import EXIT_USAGE, add_course_option, add_output_options, exit_status, parse_outputs, publish
from grader.i18n import resolve_language
from grader.manifest import START_METHODS, ManifestError, find_course_root, load_course
from grader.results import PullRequest, Report
from grader.runner import MAX_SUBMISSION_BYTES
from grader.starters import git, resolve_commit
from grader.terminal import Terminal

EXERCISES = "exercises"


class CiError(Exception):
    """What stops ``grade ci`` before anything is graded (said in one line, exit status 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade ci", description="Grade a pull request: the working tree's exercise files, with the grader, "
                                     "checks, manifest and reference solutions of the trusted base commit. "
                                     "Changed files outside the exercises are listed as ignored.",
        epilog="Exit status: 0 when every exercise graded passed (or none changed), 1 when any did not, "
               "2 for a usage error (an unknown REF says so), 130 when interrupted.")
    parser.add_argument("--base", required=True, metavar="REF",
                        help="the trusted commit: the pull request's base (e.g. origin/main, or a commit id)")
    parser.add_argument("--all", action="store_true",
                        help="grade every exercise, not only those whose file the pull request changed")
    parser.add_argument("--start-method", action="append", default=[], choices=START_METHODS,
                        dest="start_methods", metavar="METHOD", help="only this start method (repeatable)")
    parser.add_argument("--seed", type=int, help="seed of the random inputs (to reproduce a run)")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="grade N exercises in parallel")
    parser.add_argument("--teacher", action="store_true",
                        help="show hidden checks in full (a pull request's results are usually public: "
                             "without it, students see only how many failed)")
    parser.add_argument("--lang", choices=("en", "zh"), help="language of the feedback")
    add_output_options(parser)
    add_course_option(parser)
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("-j/--jobs must be at least 1")
    outputs = parse_outputs(parser, args.output)
    # The pull request may have deleted its exercises.yaml: then the current folder (the
    # base's manifest is the one that counts).
    root = args.course or find_course_root() or Path.cwd()
    language = resolve_language(args.lang)
    try:
        report = grade_pull_request(root, args.base, everything=args.all, language=language,
                                    extra=_grading_arguments(args))
    except CiError as error:
        print(f"grade ci: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    terminal = Terminal(sys.stdout, plain=args.format != "text")
    written = publish(report, args.format, outputs, language, args.teacher, terminal)
    return exit_status(report) if written else EXIT_USAGE


def _grading_arguments(args: argparse.Namespace) -> list[str]:
    extra = [f"--start-method={method}" for method in args.start_methods]
    if args.seed is not None:
        extra.append(f"--seed={args.seed}")
    return extra + [f"-j{args.jobs}"]


def grade_pull_request(root: Path, base: str, everything: bool = False, language: str = "en",
                       extra: list[str] | None = None) -> Report:
    """The report of the working tree's exercise files graded by the base commit's grader,
    with :attr:`Report.pull_request` saying what was graded and what was ignored."""
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    prefix = _git(root, "rev-parse", "--show-prefix").strip()  # the course folder in the repository ('' at its top)
    commit = _resolve(root, base)
    changed = _changed_files(root, commit)
    with tempfile.TemporaryDirectory(prefix="grade-ci-") as folder:
        base_top = Path(folder) / "base"
        _extract(top, commit, base_top)
        base_root = base_top / prefix
        try:
            course = load_course(base_root)
        except ManifestError as error:
            raise CiError(f"the base {base} has no course to grade with: {error}") from error
        files = {f"{prefix}{EXERCISES}/{exercise.module}.py": exercise for exercise in course.exercises}
        chosen = [exercise for path, exercise in files.items() if everything or path in changed]
        submissions = Path(folder) / "submission"
        submissions.mkdir()
        folder_is_real = (root / EXERCISES).is_dir() and not (root / EXERCISES).is_symlink()
        for exercise in chosen if folder_is_real else []:  # a linked exercises/ could be anything: all missing
            _copy_submission(root / EXERCISES / f"{exercise.module}.py", submissions / f"{exercise.module}.py")
        report = _grade(base_root, submissions, [exercise.id for exercise in chosen], language, extra or []) \
            if chosen else Report([])
        report.name_files(submissions, {exercise.id: path for path, exercise in files.items()})
    report.pull_request = PullRequest(base=base, commit=commit, changed=sorted(p for p in changed if p in files),
                                      ignored=sorted(p for p in changed if p not in files))
    return report


def _git(root: Path, *args: str) -> str:
    """git's output (a failure is a :class:`CiError`)."""
    try:
        done = git(root, *args)
    except FileNotFoundError as error:
        raise CiError("git is not installed: grade ci reads the base commit with git") from error
    if done.returncode != 0:
        raise CiError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace').strip() or 'failed'}")
    return done.stdout.decode("utf-8", errors="surrogateescape")


def _resolve(root: Path, base: str) -> str:
    commit = resolve_commit(root, base)
    if commit is None:
        raise CiError(f"--base {base}: no such commit here (in a shallow clone, fetch the base first: "
                      f"actions/checkout with fetch-depth: 0, or git fetch origin {base})")
    return commit


def _changed_files(root: Path, commit: str) -> set[str]:
    """The files of the working tree that differ from the merge base of ``commit`` and
    HEAD (changed, added or deleted, committed or not), and the new files git does not
    ignore; as paths from the repository's top."""
    try:
        since = _git(root, "merge-base", commit, "HEAD").strip()
    except CiError:
        since = commit  # unrelated histories: everything that differs from the base
    names = _git(root, "diff", "--name-only", "--no-renames", "-z", since, "--", ".")
    names += _git(root, "ls-files", "--others", "--exclude-standard", "--full-name", "-z", "--", ".")
    return {name for name in names.split("\0") if name}


def _extract(top: Path, commit: str, destination: Path) -> None:
    """The tree of ``commit`` in ``destination`` (git archive, read by tarfile's safe filter)."""
    destination.mkdir(parents=True)
    done = git(top, "archive", "--format=tar", commit)
    if done.returncode != 0:
        raise CiError(f"git archive {commit}: {done.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.10.12, 3.11.4 and later
            tar.extractall(destination, filter="data")
        else:  # the base's own tree, from git: no member leaves the folder
            tar.extractall(destination)


def _copy_submission(source: Path, target: Path) -> None:
    """Copy an exercise file if it is a regular file of reasonable size (a missing,
    linked or oversized one is left out: the grader then says the file is missing)."""
    try:
        info = source.lstat()
    except OSError:
        return
    if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_SUBMISSION_BYTES:
        target.write_bytes(source.read_bytes())


def _grade(base_root: Path, submissions: Path, ids: list[str], language: str, extra: list[str]) -> Report:
    """Run the base's grader in its own folder (so ``python -m grader`` imports the base's
    package) on ``submissions``; its complete report."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(base_root), os.environ.get("PYTHONPATH")])))
    env.pop("PYTHONSAFEPATH", None)  # it would keep the base's folder off sys.path
    command = [sys.executable, "-m", "grader", *ids, "--course", str(base_root), "--submission", str(submissions),
               "--format", "json", "--teacher", "--lang", language, *extra]
    done = subprocess.run(command, cwd=base_root, env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if done.returncode not in (0, 1, 130):
        raise CiError(f"the base's grader could not grade (exit status {done.returncode}): see its message above")
    try:
        return Report.from_json(json.loads(done.stdout))
    except ValueError as error:
        raise CiError(f"the base's grader gave no report it can read back ({error})") from error
