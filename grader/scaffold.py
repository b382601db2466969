"""``grade new SLUG --title ...``: scaffold the next exercise of the course.

For the next id (``exercise-11`` after ten) it writes, from ``grader/templates/``, a
small exercise that works at once, for the teacher to turn into theirs: the starter
``exercises/<module>.py`` (bilingual instructions; it computes in the caller, so it
fails), the reference solution ``solutions/<module>.py`` (``Pool.map``, so it passes),
the checks ``grader/checks/check_<module>.py`` (a ``plan``, a value check and a trace
check), its section of ``docs/exercises.md``, its message ``exNN.not_in_workers`` at the
end of both catalogues, and its manifest entry with two hints, appended to
``exercises.yaml`` by a ruamel round-trip that leaves every byte before it as it was.

Everything is prepared and checked before anything is written: a slug or module that
is taken (by an exercise's id, number, slug or module, or a command's name), a file that
would be overwritten, a section or message that exists already are refused (exit status
2) and nothing is written. The files are then written all or none: when a write or the
final reading of the manifest fails, created files are removed and changed ones get
their old bytes back (exit status 1).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import string
import sys
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.util import load_yaml_guess_indent

import grader
from grader import i18n
from grader.cli import add_course_option, course_root
from grader.manifest import (COMMANDS, ID_PATTERN, MANIFEST_NAME, MODULE_PATTERN, SLUG_PATTERN, Course,
                             ManifestError, load_course)
from grader.progress import write_atomically

EXIT_DONE, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
TEMPLATES = Path(__file__).parent / "templates"
CONTRACT = Path("docs/exercises.md")
CATALOGUES = {language: Path("grader/i18n") / f"{language}.yaml" for language in i18n.LANGUAGES}
# Modules a submission's name must not shadow in the sandbox: the standard library's and
# the sandbox's own (its boot files are imported by name).
RESERVED_MODULES = frozenset(sys.stdlib_module_names) | {"grader"} | {
    path.stem for path in (Path(grader.__file__).parent / "sandbox" / "boot").glob("*.py")}

# The generated exercise's failure message (key ``exNN.not_in_workers``) and its hints:
# ``{key}`` is ``exNN``.
MESSAGE = {
    "en": "Expected: work() runs in the Pool's worker processes, once per value ({expected} calls).\n"
          "Got: {total} call(s), {in_caller} of them in the caller's process.\n"
          "Why: give work and the values to pool.map(); do not compute them in the caller.",
    "zh": "期望：work() 在 Pool 的工作进程中运行，每个值运行一次（共 {expected} 次）。\n"
          "实际：共调用 {total} 次，其中 {in_caller} 次是在调用者进程中运行的。\n"
          "原因：把 work 和这些值交给 pool.map()；不要在调用者中自己计算。",
}
HINTS = (
    {"en": "The starter computes every value itself, in the caller's process: nothing runs in parallel. "
           "A multiprocessing.Pool hands the values to its worker processes.",
     "zh": "初始代码在调用者进程里自己计算每个值：没有任何并行。multiprocessing.Pool 会把这些值交给它的工作进程去计算。",
     "causes": ["{key}.not_in_workers"]},
    {"en": "with mp.Pool(processes) as pool: return pool.map(work, values) from inside the block; "
           "map gives the results back in input order.",
     "zh": "写成 with mp.Pool(processes) as pool:，在代码块内返回 pool.map(work, values) 的结果；map 会按输入顺序返回结果。",
     "causes": ["{key}.not_in_workers", "diff.order", "diff.item", "diff.length", "value.wrong",
                "pool.not_cleaned_up"]},
)


class Refused(Exception):
    """The exercise cannot be added as asked; nothing was written."""


@dataclass(frozen=True)
class NewExercise:
    number: int
    slug: str
    module: str
    title: str
    title_zh: str
    topic: str

    @property
    def id(self) -> str:
        return f"exercise-{self.number}"

    @property
    def key(self) -> str:
        """The prefix of its catalogue messages: ``ex11`` (``ex11.not_in_workers``)."""
        return f"ex{self.number:02d}"

    @property
    def checks(self) -> str:
        return f"grader/checks/check_{self.module}.py"

    def fields(self) -> dict[str, str]:
        """What the templates are filled with."""
        return {"id": self.id, "number": str(self.number), "slug": self.slug, "module": self.module,
                "title": self.title.rstrip("."), "title_zh": self.title_zh, "topic": self.topic, "key": self.key}


@dataclass(frozen=True)
class Changes:
    """Every file the new exercise touches, relative to the course root: files to create
    and files whose whole new text replaces the old."""

    created: dict[Path, str]
    changed: dict[Path, str]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade new", description="Scaffold the next exercise of the course: starter, reference solution, "
        "checks, docs section, messages and a manifest entry with two hints; it passes with --solution and its "
        "starter fails, for you to edit.")
    parser.add_argument("slug", metavar="SLUG", help="lower-case words joined by '-' (grade SLUG selects it)")
    parser.add_argument("--title", required=True, help="the title in English")
    parser.add_argument("--title-zh", help="the title in Chinese (default: the English title)")
    parser.add_argument("--topic", help="a short label for grade list (default: the slug's words)")
    parser.add_argument("--module", help="the module name (default: exNN_<slug with _>)")
    add_course_option(parser)
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    root = course_root(parser, args)
    try:
        course = load_course(root)
        exercise = _new_exercise(course, args)
        changes = prepare(course, exercise)
    except (Refused, ManifestError) as error:
        return _refuse(str(error))
    try:
        write(root, changes, exercise)
    except (OSError, ManifestError) as error:
        print(f"grade new: error: {error}; nothing was written", file=sys.stderr)
        return EXIT_FAILED
    _report(exercise, changes)
    return EXIT_DONE


def _refuse(message: str) -> int:
    print(f"grade new: error: {message}", file=sys.stderr)
    return EXIT_REFUSED


def _new_exercise(course: Course, args: argparse.Namespace) -> NewExercise:
    number = len(course.exercises) + 1
    slug = args.slug
    module = args.module or f"ex{number:02d}_{slug.replace('-', '_')}"
    if not SLUG_PATTERN.match(slug):
        raise Refused(f"slug {slug!r} must be lower-case words joined by '-'")
    if ID_PATTERN.match(slug) or slug.isdigit():
        raise Refused(f"slug {slug!r} looks like an exercise's id or number; choose a word")
    if not MODULE_PATTERN.match(module):
        raise Refused(f"module {module!r} must be a Python module name")
    if module in RESERVED_MODULES:
        raise Refused(f"module {module!r} would shadow the module of that name in the sandbox; choose another")
    for field, name in (("slug", slug), ("module", module)):
        if name in COMMANDS:
            raise Refused(f"{field} {name!r} is the name of a grade command (grade {name} would be ambiguous)")
        taken = course.select(name)
        if taken is not None:
            raise Refused(f"{field} {name!r} is taken: grade {name} selects {taken.id} ({taken.slug})")
    texts = {"--title": args.title, "--title-zh": args.title_zh, "--topic": args.topic}
    for option, value in texts.items():
        if value is not None and (not value.strip() or "\\" in value or '"""' in value
                                  or any(not char.isprintable() for char in value)):
            raise Refused(f"{option} must be one line of text, without a backslash or triple quotes")
    return NewExercise(number=number, slug=slug, module=module, title=args.title.strip(),
                       title_zh=(args.title_zh or args.title).strip(),
                       topic=(args.topic or slug.replace("-", " ")).strip())


def prepare(course: Course, exercise: NewExercise) -> Changes:
    """Every file's new text, checked; raises :class:`Refused` before anything is written."""
    root = course.root
    created = {
        Path("exercises") / f"{exercise.module}.py": _fill("starter.py.tmpl", exercise),
        Path("solutions") / f"{exercise.module}.py": _fill("solution.py.tmpl", exercise),
        Path(exercise.checks): _fill("check.py.tmpl", exercise),
    }
    for path, source in created.items():
        if (root / path).exists():
            raise Refused(f"{path} exists: refusing to overwrite it")
        compile(source, str(path), "exec")  # a template that does not compile is the grader's bug: fail loudly
    contract = _read(root / CONTRACT) if (root / CONTRACT).exists() else ""
    if re.search(rf"^## {re.escape(exercise.id)} ·", contract, re.MULTILINE):
        raise Refused(f"{CONTRACT} already has a section for {exercise.id}")
    section = _fill("contract.md.tmpl", exercise)
    if contract:
        changed = {CONTRACT: contract.rstrip("\n") + "\n\n---\n\n" + section}
    else:
        created[CONTRACT] = section
        changed = {}
    for language, path in CATALOGUES.items():
        changed[path] = _with_message(root, path, exercise, language)
    changed[Path(MANIFEST_NAME)] = _with_entry(root / MANIFEST_NAME, exercise)
    return Changes(created, changed)


def _fill(template: str, exercise: NewExercise) -> str:
    return string.Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(exercise.fields())


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise Refused(f"{path} cannot be read: {error}") from None


def _with_message(root: Path, path: Path, exercise: NewExercise, language: str) -> str:
    """The catalogue ``path`` with the exercise's message appended. The catalogue must be
    the one the running grader reads: a hint naming the message is checked against it."""
    if (root / path).resolve() != (Path(i18n.__file__).parent / path.name).resolve():
        raise Refused(f"{root / path} is not the catalogue of the grader running now ({i18n.__file__}): "
                      f"run grade new with the course's own grader (pip install -e {root})")
    catalogue = _read(root / path)
    if re.search(rf"^{re.escape(exercise.key)}\.", catalogue, re.MULTILINE):
        raise Refused(f"{path} already has messages {exercise.key}.*")
    heading = f"# --- {exercise.id} (written by grade new) "
    message = json.dumps(MESSAGE[language], ensure_ascii=False)  # a JSON string is a YAML double-quoted one
    return (catalogue.rstrip("\n") + f"\n\n{heading:-<88}\n"
            f"{exercise.key}.not_in_workers: {message}\n")


def _with_entry(path: Path, exercise: NewExercise) -> str:
    """The manifest with the exercise's entry appended, in the style of the others; every
    byte of the manifest before it is kept (checked)."""
    original = _read(path)
    if not original.endswith("\n"):
        original += "\n"
    yaml = round_trip(original)
    if yaml is None:
        raise Refused(f"{path}: its indentation is not one a YAML round-trip keeps; add the entry by hand")
    document = yaml.load(original)
    document["exercises"].append(_entry(exercise, int(document["format_version"])))
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    updated = buffer.getvalue()
    if not updated.startswith(original):
        raise Refused(f"{path}: the entry cannot be appended without changing the rest of the file; "
                      "add it by hand")
    return updated


def round_trip(text: str) -> YAML | None:
    """A round-trip YAML (comments, order, quotes and flow style kept) that writes ``text``
    back unchanged: its indentation guessed, then checked; None when none does."""
    _, sequence_indent, offset = load_yaml_guess_indent(text)
    for mapping_indent in dict.fromkeys((2, 4, sequence_indent)):
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.width = 1 << 16  # never fold a long hint
        yaml.indent(mapping=mapping_indent, sequence=sequence_indent, offset=offset)
        buffer = io.StringIO()
        yaml.dump(yaml.load(text), buffer)
        if buffer.getvalue() == text:
            return yaml
    return None


def _entry(exercise: NewExercise, format_version: int) -> CommentedMap:
    def quoted(value: str) -> DoubleQuotedScalarString:
        return DoubleQuotedScalarString(value)

    def flow(value: CommentedMap | CommentedSeq) -> CommentedMap | CommentedSeq:
        value.fa.set_flow_style()
        return value

    entry = CommentedMap()
    entry["id"] = exercise.id
    entry["slug"] = exercise.slug
    entry["title"] = flow(CommentedMap(en=quoted(exercise.title), zh=quoted(exercise.title_zh)))
    entry["module"] = exercise.module
    entry["topic"] = quoted(exercise.topic)
    entry["checks"] = exercise.checks
    if format_version >= 2:
        entry["hints"] = CommentedSeq(CommentedMap(
            en=quoted(hint["en"]), zh=quoted(hint["zh"]),
            causes=flow(CommentedSeq(cause.format(key=exercise.key) for cause in hint["causes"])))
            for hint in HINTS)
    else:  # version 1: hints: {en: [...], zh: [...]}, without causes
        entry["hints"] = CommentedMap(
            (language, CommentedSeq(quoted(hint[language]) for hint in HINTS)) for language in i18n.LANGUAGES)
    return entry


def write(root: Path, changes: Changes, exercise: NewExercise) -> None:
    """Write every change, then read the manifest back (the new hints' causes against the
    catalogue too); all or nothing."""
    with _AllOrNothing() as files:
        for path, content in changes.created.items():
            files.create(root / path, content)
        for path, content in changes.changed.items():
            files.replace(root / path, content)
        i18n.catalogue.cache_clear()  # read the catalogue with the new message
        added = load_course(root).select(exercise.id)
        if added is None or added.module != exercise.module:
            raise ManifestError(root / MANIFEST_NAME, f"{exercise.id} is not {exercise.module} after the append")


class _AllOrNothing:
    """Files created and replaced in a ``with`` block; when the block fails, the created
    ones are removed and the replaced ones get their old content back."""

    def __init__(self) -> None:
        self.created: list[Path] = []  # files and folders, in the order they were made
        self.replaced: dict[Path, bytes] = {}  # file -> its old content

    def __enter__(self) -> _AllOrNothing:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: object) -> None:
        if kind is not None:
            self.rollback()

    def create(self, path: Path, content: str) -> None:
        missing = [folder for folder in reversed(path.parents) if not folder.exists()]
        for folder in missing:
            folder.mkdir()
            self.created.append(folder)
        with open(path, "x", encoding="utf-8") as file:
            self.created.append(path)
            file.write(content)

    def replace(self, path: Path, content: str) -> None:
        old = path.read_bytes()
        write_atomically(path, content.encode("utf-8"))
        self.replaced[path] = old

    def rollback(self) -> None:
        for path, old in self.replaced.items():
            write_atomically(path, old)
        for path in reversed(self.created):
            with contextlib.suppress(OSError):
                path.rmdir() if path.is_dir() else path.unlink()


def _report(exercise: NewExercise, changes: Changes) -> None:
    print(f"Added {exercise.id} ({exercise.slug}, module {exercise.module}):")
    for path in changes.created:
        print(f"  created  {path}")
    for path in changes.changed:
        print(f"  appended {path}")
    print(f"It passes with `grade {exercise.id} --solution`, and its starter fails `grade {exercise.id}`.\n"
          f"Now make it yours: the starter, the solution, the checks, the section of {CONTRACT}, the hints in "
          f"{MANIFEST_NAME} and the message {exercise.key}.not_in_workers; then add example submissions in "
          f"tests/examples/{exercise.module}/ (README: Adding an exercise).")
