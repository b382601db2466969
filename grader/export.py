"""``grade export DEST``: a student copy of the course, as committed.

The copy is the course at a commit (``--ref``, default ``$GRADE_STARTERS_REF`` if set,
else ``HEAD``: the commit ``grade check`` grades the starters at), read from git: the
teacher's working tree never goes (``exercises/`` there may hold the teacher's own
attempts, other files half-made edits), so what students get is what was committed and
reviewed, starters included. Of that commit it leaves out:

- ``solutions/``: the reference solutions;
- ``tests/``: the project's own tests grade the reference solutions (in the copy they
  would fail), and ``tests/examples/`` holds golden submissions, correct ones among them;
- ``bench/``: it times ``grade --solution``;
- ``.ci/``: it runs the project's tests;
- ``docs/writing-an-exercise.md``: the teachers' guide, whose worked example has a
  reference solution (and ``tests/test_guide.py`` runs it);
- each exercise's hidden checks: the files its optional ``hidden_checks`` field names,
  and the field itself, taken out of ``exercises.yaml`` by a ruamel round-trip (the rest
  of the file as it was);
- the teacher-only parts of ``README.md``: every region from a line
  ``<!-- teacher-only -->`` to a line ``<!-- /teacher-only -->``, the markers with it
  (:func:`student_readme`); a link into a heading left out becomes its plain text. A
  README without markers ships as it is; markers that do not pair up stop the export.

Everything else ships: ``grader/`` (one package, the teacher commands included),
``exercises/`` (the starters), ``docs/exercises.md``, ``exercises.yaml``,
``pyproject.toml``, ``README.md`` (for students), ``.gitignore``, ``.devcontainer/``: the copy installs
with ``pip install -e`` and grades on its own. It is made a git repository with one
commit, so ``grade reset`` finds the starters in it.

Before it says done, it checks that no file of the copy holds a reference solution (as
committed, or as in the working tree; the whole file, or its code after the docstring,
blank lines and blanks at line ends aside) and that the copy's own grader reads its manifest
(``grade list``, run there). A DEST that exists and is not empty is refused; when
anything fails, DEST is left as it was found.
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import posixpath
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from ruamel.yaml import YAMLError

from grader.cli import add_course_option, course_root
from grader.manifest import MANIFEST_NAME
from grader.scaffold import round_trip
from grader.starters import git, resolve_commit, teacher_ref

EXIT_DONE, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
HIDDEN_CHECKS = "hidden_checks"
# Folders and files of the course a student copy leaves out, and why.
LEFT_OUT = {
    "solutions": "the reference solutions",
    "tests": "the project's own tests: they grade the reference solutions, and tests/examples/ holds "
             "golden submissions",
    "bench": "benchmarks: they time grade --solution",
    ".ci": "CI: it runs the project's tests",
    "docs/writing-an-exercise.md": "the teachers' guide: its worked example has a reference solution, and "
                                   "tests/test_guide.py runs it",
}
EXECUTABLE, SYMLINK, SUBMODULE = "100755", "120000", "160000"
SOLUTIONS = "solutions"
README = "README.md"
# A line alone on its own: <!-- teacher-only --> opens a region the copy's README leaves out, <!-- /teacher-only --> closes it.
TEACHER_ONLY = re.compile(r"^\s*<!--\s*(/?)teacher-only\s*-->\s*$")
OPEN_MARKER, CLOSE_MARKER = "<!-- teacher-only -->", "<!-- /teacher-only -->"
MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\(#([^)\s]+)\)")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")
MIN_CODE_LINES = 3  # a solution's code shorter than this is not looked for on its own
# The copy's repository and its one commit, whatever the teacher's git configuration says.
GIT_CONFIG = ("-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
              "-c", "user.name=grade export", "-c", "user.email=grade-export@localhost")


class Refused(Exception):
    """The copy cannot be made as asked; nothing was written."""


class ExportFailed(Exception):
    """The copy was written but is not fit to ship (it is then removed)."""


@dataclass(frozen=True)
class Committed:
    """A file of the course at the exported commit."""

    path: str  # relative to the course root, POSIX
    mode: str  # git's: 100644, 100755 (executable), 120000 (symlink), 160000 (submodule)
    object: str


@dataclass
class Copy:
    """What the copy holds, and what was left out of it and why."""

    commit: str
    files: dict[str, tuple[str, bytes]]  # path -> (git mode, content)
    solutions: dict[str, bytes] = field(default_factory=dict)  # the committed ones: path -> content
    left_out: dict[str, list[str]] = field(default_factory=dict)  # why -> paths
    stripped: list[str] = field(default_factory=list)  # exercises whose hidden_checks were taken out
    readme_regions: tuple[int, int] = (0, 0)  # teacher-only regions of README.md left out, and their lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade export", description="Write a student copy of the course as committed: no solutions, hidden "
        "checks, golden examples, tests, benchmarks or CI; a git repository with one commit, which installs "
        "and grades on its own.")
    parser.add_argument("dest", type=Path, metavar="DEST", help="a folder that does not exist yet, or an empty one")
    parser.add_argument("--ref", help="the commit to export (default: $GRADE_STARTERS_REF if set, else HEAD; "
                                      "grade check grades the same starters)")
    add_course_option(parser)
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    root = course_root(parser, args)
    dest: Path = args.dest
    ref = args.ref or teacher_ref()
    try:
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise Refused(f"{dest} exists and is not empty")
        if shutil.which("git") is None:
            raise Refused("git is not installed: grade export copies the course as committed, from git")
        copy = select(root, ref)
    except Refused as error:
        print(f"grade export: error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    created = not dest.exists()
    try:
        write(copy, dest)
        verify(copy, root, dest)
    except BaseException as error:
        _undo(dest, created)
        if not isinstance(error, (OSError, ExportFailed)):
            raise
        print(f"grade export: error: {error}; {dest} is left as it was", file=sys.stderr)
        return EXIT_FAILED
    _report(copy, root, dest, ref)
    return EXIT_DONE


def select(root: Path, ref: str, keep_hidden: bool = False) -> Copy:
    """The files of the copy, read from the course's commit ``ref`` (``keep_hidden``: with
    the hidden checks, for an autograder students never see: ``grade gradescope-package``)."""
    commit = resolve_commit(root, ref)
    if commit is None:
        raise Refused(f"{ref!r} is not a commit of a git repository at {root}: grade export copies the course "
                      "as committed")
    listed = git(root, "ls-tree", "-r", "-z", commit, "--", ".")  # paths relative to root
    if listed.returncode != 0:
        raise Refused(f"git ls-tree {commit}: {listed.stderr.decode().strip()}")
    entries = []
    for line in filter(None, listed.stdout.decode("utf-8", "surrogateescape").split("\0")):
        meta, path = line.split("\t", 1)
        mode, _, obj = meta.split()
        entries.append(Committed(path, mode, obj))
    if not any(entry.path == MANIFEST_NAME for entry in entries):
        raise Refused(f"commit {commit[:12]} has no {MANIFEST_NAME} in {root}")
    contents = _blobs(root, [entry.object for entry in entries if entry.mode != SUBMODULE])
    copy = Copy(commit, files={})
    manifest = contents[_entry(entries, MANIFEST_NAME).object]
    hidden: dict[str, str] = {}
    if not keep_hidden:
        manifest, hidden = _without_hidden_checks(manifest, copy)
    for entry in entries:
        left_out = next((name for name in LEFT_OUT if entry.path == name or entry.path.startswith(f"{name}/")), None)
        if left_out is not None:
            copy.left_out.setdefault(LEFT_OUT[left_out], []).append(entry.path)
            if left_out == SOLUTIONS:
                copy.solutions[entry.path] = contents[entry.object]
        elif entry.path in hidden:
            copy.left_out.setdefault(f"the hidden checks of {hidden[entry.path]}", []).append(entry.path)
        elif entry.mode == SUBMODULE:
            copy.left_out.setdefault("a git submodule (its files are not in the commit)", []).append(entry.path)
        else:
            content = manifest if entry.path == MANIFEST_NAME else contents[entry.object]
            if entry.path == README and entry.mode != SYMLINK:
                content, copy.readme_regions = student_readme(content)
            copy.files[entry.path] = (entry.mode, content)
    return copy


def student_readme(readme: bytes, name: str = README) -> tuple[bytes, tuple[int, int]]:
    """``readme`` without its teacher-only regions: each from a line ``<!-- teacher-only -->``
    to a line ``<!-- /teacher-only -->``, both markers included; a blank line left double
    where a region was is made single, and a link to a heading left out (``[text](#anchor)``,
    a table of contents) becomes its text. Returns the text and (regions, lines) left
    out. A README without markers is returned as it is; markers that do not pair up are
    an error (:class:`Refused`) naming ``name`` and the line."""
    if b"teacher-only" not in readme:
        return readme, (0, 0)
    try:
        lines = readme.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError as error:
        raise Refused(f"{name} is not UTF-8 text ({error}): its teacher-only markers cannot be read") from None
    kept: list[str] = []
    dropped: list[str] = []
    opened: int | None = None  # the line of the marker of the region being left out
    regions = 0
    join = False  # the line before is where a region was taken out
    for number, line in enumerate(lines, 1):
        marker = TEACHER_ONLY.match(line)
        if marker and not marker.group(1):
            if opened is not None:
                raise Refused(f"{name}, line {number}: {OPEN_MARKER} inside the teacher-only region opened at line "
                              f"{opened}; close that one first with {CLOSE_MARKER}")
            opened = number
        elif marker:
            if opened is None:
                raise Refused(f"{name}, line {number}: {CLOSE_MARKER} closes no region (no {OPEN_MARKER} before it)")
            opened, regions, join = None, regions + 1, True
        elif opened is not None:
            dropped.append(line)
        else:
            if join and not line.strip() and (not kept or not kept[-1].strip()):
                continue  # the blank lines on either side of a region: one is enough
            kept.append(line)
            join = False
    if opened is not None:
        raise Refused(f"{name}, line {opened}: {OPEN_MARKER} is never closed (add {CLOSE_MARKER} where the "
                      "teacher-only region ends)")
    while join and kept and not kept[-1].strip():  # a region at the end: no blank lines left after the text
        kept.pop()
    gone = _anchors(dropped) - _anchors(kept)

    def unlinked(link: re.Match) -> str:
        return link.group(1) if link.group(2) in gone else link.group(0)

    text = MARKDOWN_LINK.sub(unlinked, "".join(kept))
    return text.encode("utf-8"), (regions, len(dropped) + 2 * regions)


def _anchors(lines: list[str]) -> set[str]:
    """The anchors GitHub gives the Markdown headings of ``lines`` (outside code blocks):
    lower case, punctuation out, spaces as hyphens."""
    anchors, fenced = set(), False
    for line in lines:
        if FENCE.match(line):
            fenced = not fenced
            continue
        heading = None if fenced else HEADING.match(line.rstrip("\n"))
        if heading:
            anchors.add(re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-"))
    return anchors


def _entry(entries: list[Committed], path: str) -> Committed:
    return next(entry for entry in entries if entry.path == path)


def _blobs(root: Path, objects: list[str]) -> dict[str, bytes]:
    """The content of each git object (one ``git cat-file --batch`` for all of them)."""
    unique = list(dict.fromkeys(objects))
    batch = git(root, "cat-file", "--batch", stdin="".join(f"{obj}\n" for obj in unique).encode())
    if batch.returncode != 0:
        raise Refused(f"git cat-file: {batch.stderr.decode().strip()}")
    contents, output, at = {}, batch.stdout, 0
    for obj in unique:  # each: "<object> <type> <size>\n<content>\n"
        end = output.index(b"\n", at)
        size = int(output[at:end].split()[2])
        contents[obj] = output[end + 1:end + 1 + size]
        at = end + 1 + size + 1
    return contents


def _without_hidden_checks(manifest: bytes, copy: Copy) -> tuple[bytes, dict[str, str]]:
    """The manifest without any exercise's ``hidden_checks`` field (noted in ``copy``), and
    the files the fields named: {path relative to the root: exercise id}."""
    if HIDDEN_CHECKS.encode() not in manifest:
        return manifest, {}
    try:
        text = manifest.decode("utf-8")
        text += "" if text.endswith("\n") else "\n"
        parser = round_trip(text)
        document = parser.load(text) if parser is not None else None
    except (UnicodeDecodeError, YAMLError) as error:
        raise Refused(f"{MANIFEST_NAME} as committed cannot be read: {error}") from None
    if document is None:
        raise Refused(f"{MANIFEST_NAME}: its indentation is not one a YAML round-trip keeps; take out its "
                      f"{HIDDEN_CHECKS} fields by hand")
    hidden: dict[str, str] = {}
    for exercise in document.get("exercises") or []:
        named = exercise.get(HIDDEN_CHECKS) if hasattr(exercise, "get") else None
        if named is None:
            continue
        ident = str(exercise.get("id", "?"))
        for path in [named] if isinstance(named, str) else named:
            hidden[posixpath.normpath(str(path))] = ident
        del exercise[HIDDEN_CHECKS]
        copy.stripped.append(ident)
    buffer = io.StringIO()
    parser.dump(document, buffer)
    return buffer.getvalue().encode("utf-8"), hidden


def write(copy: Copy, dest: Path) -> None:
    """The files, with their modes, then a git repository with one commit."""
    dest.mkdir(parents=True, exist_ok=True)
    for path, (mode, content) in copy.files.items():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == SYMLINK:
            os.symlink(os.fsdecode(content), target)
            continue
        target.write_bytes(content)
        target.chmod(0o755 if mode == EXECUTABLE else 0o644)
    message = f"The course, exported by grade export from {copy.commit[:12]}"
    for command, *args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", message)):
        done = git(dest, *GIT_CONFIG, command, *args)
        if done.returncode != 0:
            raise ExportFailed(f"git {command} in {dest}: {done.stderr.decode().strip()}")


def verify(copy: Copy, root: Path, dest: Path, keep_hidden: bool = False) -> None:
    """No file of the copy holds a reference solution, its manifest names no hidden checks
    (unless ``keep_hidden``), and its own grader reads its manifest."""
    solutions = [(path, text) for path, content in _solutions(copy, root).items() for text in _solution_texts(content)]
    for path, (mode, content) in copy.files.items():
        shipped = b"\n" + _normalised(content) + b"\n"
        leaked = next((solution for solution, text in solutions if mode != SYMLINK and text in shipped), None)
        if leaked is not None:
            raise ExportFailed(f"{path} holds the reference solution {leaked}")
    exported = yaml.safe_load((dest / MANIFEST_NAME).read_text(encoding="utf-8"))
    if not keep_hidden and any(HIDDEN_CHECKS in exercise for exercise in exported.get("exercises") or []
                               if isinstance(exercise, dict)):
        raise ExportFailed(f"{MANIFEST_NAME} of the copy still names hidden checks")
    listed = subprocess.run([sys.executable, "-m", "grader", "list"], cwd=dest, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if listed.returncode != 0:
        error = (listed.stderr.strip().splitlines() or ["no output"])[-1]
        raise ExportFailed(f"the copy's grader cannot read its course ({error})")


def _solutions(copy: Copy, root: Path) -> dict[str, bytes]:
    """Every reference solution: committed (left out of the copy) and in the working tree."""
    found = dict(copy.solutions)
    for path in sorted((root / SOLUTIONS).glob("**/*.py")):
        found.setdefault(path.relative_to(root).as_posix() + " (working tree)", path.read_bytes())
    return found


def _solution_texts(content: bytes) -> list[bytes]:
    """What a file holding the solution ``content`` would contain (normalised, between
    newlines): the whole solution, and its code after the module docstring when that has
    a few lines (a guide may quote the code alone)."""
    texts = [content]
    try:
        tree = ast.parse(content)
    except (SyntaxError, ValueError):
        tree = None
    if tree is not None and tree.body and ast.get_docstring(tree) is not None:
        code = b"\n".join(content.splitlines()[tree.body[0].end_lineno:])
        if len(_normalised(code).splitlines()) >= MIN_CODE_LINES:
            texts.append(code)
    return [b"\n" + _normalised(text) + b"\n" for text in texts]


def _normalised(content: bytes) -> bytes:
    """The lines of ``content`` without blank lines or blanks at their ends: a copy that
    differs only in those is still the same text."""
    return b"\n".join(line.rstrip() for line in content.splitlines() if line.strip())


def _undo(dest: Path, created: bool) -> None:
    """Put DEST back as it was found: absent, or empty."""
    if created:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _report(copy: Copy, root: Path, dest: Path, ref: str) -> None:
    print(f"Exported the course at {copy.commit[:12]} ({ref}) to {dest}: {len(copy.files)} files, "
          "in a git repository with one commit (grade reset reads the starters from it).")
    print("Left out:")
    for why, paths in copy.left_out.items():
        folder = next((name for name, reason in LEFT_OUT.items() if reason == why), None)
        shown = (folder if list(paths) == [folder] else f"{folder}/") if folder else ", ".join(paths)
        print(f"  {shown} ({len(paths)} file{'s' * (len(paths) != 1)}): {why}")
    if copy.stripped:
        print(f"  {MANIFEST_NAME}: the {HIDDEN_CHECKS} field of {', '.join(copy.stripped)}")
    regions, lines = copy.readme_regions
    if regions:
        print(f"  {README}: {regions} teacher-only region{'s' * (regions != 1)} ({lines} lines), between "
              f"{OPEN_MARKER} and {CLOSE_MARKER}")
    pending = len(git(root, "status", "--porcelain", "--", ".").stdout.splitlines())
    if pending:
        print(f"Not in the copy: {pending} uncommitted change(s) or untracked file(s) of {root} "
              "(the copy is the course as committed).")
    print("Checked: no file of the copy is a reference solution, and the copy's grader reads its manifest.\n"
          f"Students install and grade it with: cd {dest} && pip install -e . && grade exercise-1")
