"""``grade gradescope-package OUT.zip``: a Gradescope autograder for this course.

The zip is what Gradescope's "Configure Autograder" takes:

- ``setup.sh`` (run once, as root, when Gradescope builds the image): installs Python,
  git and bubblewrap, makes ``/autograder/venv`` and installs the course's grader in it,
  then checks that the walls around a submission are up in the image (``--check-isolation``):
  where grading would be refused, the build fails, saying why;
- ``run_autograder`` (run for each submission): grades ``/autograder/submission`` and
  writes ``/autograder/results/results.json`` in the Gradescope format, hidden checks
  with ``visibility: after_published``;
- ``course/``: the course as committed at ``--ref`` (default ``HEAD``), as ``grade export``
  makes a student copy (no ``solutions/``, tests, benchmarks or CI: the reference
  solutions never enter the image a submission runs in; timeouts come from
  ``grader/checks/reference_times.json``), but with its hidden checks.

A submission is read as ``grade batch`` reads one student's entry
(:mod:`grader.submissions`: ``exercises/<module>.py`` or ``<module>.py`` anywhere in the
upload, a zip's content included); exercises without a file score 0 with "file
missing". Whatever happens, ``results.json`` is written: a submission that cannot be
read, a machine without walls (``GRADE_REQUIRE_ISOLATION``, which ``run_autograder`` sets:
nothing is graded) or a fault of the grader gives a score of 0 out of the course's
points and says why.

``run_autograder`` reads ``$AUTOGRADER_ROOT`` (default ``/autograder``) and runs
``$AUTOGRADER_PYTHON`` (default ``$AUTOGRADER_ROOT/venv/bin/python``): the tests run it
against a fake tree.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import traceback
import zipfile
from pathlib import Path

from grader import __version__
from grader.cli import add_course_option, course_root
from grader.i18n import resolve_language, text
from grader.progress import write_atomically
from grader.sandbox.isolation import REQUIRE_VARIABLE, isolation
from grader.starters import teacher_ref

EXIT_DONE, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
COURSE = "course"

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip git bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet /autograder/source/course
# run_autograder refuses to grade without bubblewrap or Landlock around the submission
# ({REQUIRE_VARIABLE}): an image where it would refuse every submission fails to build,
# saying why, rather than give every student 0.
cd /autograder/source/course
{REQUIRE_VARIABLE}=1 /autograder/venv/bin/python -m grader.gradescope_package --check-isolation
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission: it grades $AUTOGRADER_ROOT/submission and
# writes $AUTOGRADER_ROOT/results/results.json (made by grade gradescope-package).
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
# Fail closed: no grading without bubblewrap or Landlock around the submission (the
# results then say the autograder could not grade; grade --version says why).
export GRADE_REQUIRE_ISOLATION="${GRADE_REQUIRE_ISOLATION-1}"
cd "$ROOT/source/course"
exec "$PYTHON" -m grader.gradescope_package --run --root "$ROOT"
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade gradescope-package", description="Write a Gradescope autograder for this course: setup.sh, "
        "run_autograder and the course as committed, with its hidden checks and without its reference solutions.")
    parser.add_argument("out", type=Path, metavar="OUT.zip", help="the zip to write (replaced if it exists)")
    parser.add_argument("--ref", help="the commit to package (default: $GRADE_STARTERS_REF if set, else HEAD)")
    add_course_option(parser)
    return parser


def main(argv: list[str]) -> int:
    if argv == ["--check-isolation"]:  # what setup.sh runs, in the course's folder
        return check_isolation()
    if "--run" in argv:  # what run_autograder runs, in the course's folder
        runner = argparse.ArgumentParser(prog="grade gradescope-package --run")
        runner.add_argument("--run", action="store_true")
        runner.add_argument("--root", type=Path, default=Path("/autograder"))
        return grade_submission(runner.parse_args(argv).root)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.out.suffix.lower() != ".zip":
        parser.error(f"{args.out}: the autograder is a .zip file")
    from grader.export import ExportFailed, Refused, select, verify, write

    root = course_root(parser, args)
    ref = args.ref or teacher_ref()
    with tempfile.TemporaryDirectory(prefix="grade-gradescope-") as folder:
        course = Path(folder) / COURSE
        try:
            copy = select(root, ref, keep_hidden=True)
            write(copy, course)
            verify(copy, root, course, keep_hidden=True)
        except (Refused, ExportFailed, OSError) as error:
            print(f"grade gradescope-package: error: {error}", file=sys.stderr)
            return EXIT_REFUSED if isinstance(error, Refused) else EXIT_FAILED
        shutil.rmtree(course / ".git")
        _zip(Path(folder), args.out)
    print(f"Wrote {args.out}: the course at {copy.commit[:12]} ({ref}), its hidden checks included, no reference "
          "solution.\nUpload it in Gradescope's Configure Autograder (Ubuntu base image); students submit their "
          "exercise files (or their exercises/ folder).")
    return EXIT_DONE


def _zip(folder: Path, out: Path) -> None:
    """setup.sh and run_autograder (executable) and the course, into ``out`` atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
        for path in sorted((folder / COURSE).rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, path.relative_to(folder).as_posix())
    partial.replace(out)


def check_isolation() -> int:
    """Whether this machine could grade (``setup.sh`` runs it in Gradescope's image, with
    ``GRADE_REQUIRE_ISOLATION`` set as ``run_autograder`` sets it): the walls, and exit
    status 1 with the reason, set apart, when grading would be refused."""
    walls = isolation()
    print(f"grade {__version__}\n{walls.summary()}", flush=True)  # in the build's log before a refusal (stderr)
    refusal = walls.refusal()
    if refusal:
        rule = "=" * 78
        print(f"\n{rule}\ngrade gradescope-package: THIS IMAGE CANNOT GRADE. {refusal}.\n"
              "run_autograder would refuse every submission (every student would get 0 out of the course's points, "
              f"with this reason), so the build stops here.\n{rule}", file=sys.stderr)
        return EXIT_FAILED
    print("grade gradescope-package: submissions can be graded in this image, under "
          f"{' + '.join(walls.walls) or 'the process-level sandbox only'}.")
    return EXIT_DONE


def grade_submission(root: Path) -> int:
    """Grade ``root/submission`` with the course this runs in; ``root/results/results.json``
    is written whatever happens, out of the course's points once the course is read."""
    from grader.declared import declare
    from grader.formats import render
    from grader.manifest import find_course_root, load_course
    from grader.runner import Options, run
    from grader.submissions import Entry, collect, name_near_misses

    results = root / "results" / "results.json"
    language = resolve_language(None)
    max_score: int | None = None
    try:
        course_folder = find_course_root()
        assert course_folder is not None, "run_autograder runs in the course's folder"
        course = load_course(course_folder)
        max_score = sum(declare(exercise).max_score(exercise) for exercise in course.exercises)
        refusal = isolation().refusal()
        if refusal:  # fail closed: nothing runs, and the staff's log says why too
            print(f"grade gradescope-package: {refusal}", file=sys.stderr)
            _write(results, _failure(text("gradescope.refused", language, reason=refusal), max_score))
            return EXIT_FAILED
        collected = collect(Entry("submission", root / "submission"), [ex.module for ex in course.exercises])
        if collected.problem:
            _write(results, _failure(f"Your submission could not be read: {collected.problem}. Upload your exercise "
                                     f"files ({course.exercises[0].module}.py, ...) or your exercises/ folder.",
                                     max_score))
            return EXIT_DONE
        with tempfile.TemporaryDirectory(prefix="grade-submission-") as folder:
            collected.write(Path(folder))
            report = run(Options(course_root=course.root, submission=Path(folder), teacher=True, language=language))
        report.name_files(Path(folder), {exercise.id: Path(exercise.file).name for exercise in report.exercises})
        name_near_misses(report, collected.near_misses, language)
        write_atomically(results, render(report, "gradescope", language, teacher=True).encode("utf-8"))
    except Exception:  # the autograder's own fault: a result says so, with the traceback for the staff
        print(traceback.format_exc(), file=sys.stderr)
        _write(results, _failure("The autograder failed while grading (not a fault of your submission): "
                                 "please tell the course staff.", max_score))
        return EXIT_FAILED
    return EXIT_DONE


def _failure(message: str, max_score: int | None) -> dict:
    """A result that grades nothing: 0 out of ``max_score`` (the course's points; left out
    when the course could not be read), with ``message`` for the student."""
    return {"score": 0, **({"max_score": max_score} if max_score is not None else {}), "output": message,
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def _write(path: Path, document: dict) -> None:
    write_atomically(path, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
