"""A class's submissions: one entry per student, read safely into exercise files.

``grade batch SUBMISSIONS`` takes every entry of the folder SUBMISSIONS (names starting
with a dot aside), in name order; the student is the entry's name (a zip's without
``.zip``). Entries whose students are one name once case and Unicode form are set aside
(``alice/`` and ``alice.zip``, ``Dave/`` and ``dave.zip``) are each refused (see
:func:`entries`). An entry is:

- a folder (a student's copy of the course, a git clone, or just their files): each
  exercise's file is ``exercises/<module>.py`` if there is one, else the
  ``<module>.py`` nearest the folder's top (``.git`` and other dotted folders aside);
  symbolic links are never followed (a linked file or folder is as good as absent);
- a bare git repository (a folder with ``HEAD`` and ``objects``): its ``HEAD``, read
  the same way (git never runs on the student's repository itself, whose configuration
  could name commands: see :func:`_bare_repository`); one holding a symbolic link
  anywhere in what is read (``refs``, ``objects`` or inside them: another student's
  repository, linked) is refused whole;
- a ``.zip``: read the same way, without extracting anything to disk. A zip is refused
  whole when its end record or its list of members says it holds more than
  :data:`MAX_MEMBERS` members, or a list longer than :data:`MAX_DIRECTORY_BYTES` (both
  read before the list is parsed, see :func:`_refuse_crowded_zip`), when a member's path
  is absolute or climbs out (``../``), when it holds more than :data:`MAX_UNZIPPED_BYTES`
  once unzipped (a zip bomb), or when a member unzips to more than it said it would.

Only the course's module files are read, each at most
:data:`~grader.runner.MAX_SUBMISSION_BYTES` (a larger one is left out: the grader then
says the file is missing). A module without its file but with a file named almost like
it (``Ex01_Process.py``, ``ex03_queue (1).py``, ``ex03_queue.py.txt``, ``ex03-queue.py``,
in any folder) has that file named, with what to rename it to
(:attr:`Collected.near_misses`, :func:`name_near_misses`). Anything else (another kind
of file, an entry with no exercise file at all, a corrupt zip) is a submission that
cannot be graded, with the reason.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
import stat
import struct
import subprocess
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from grader.i18n import text
from grader.results import Report
from grader.runner import MAX_SUBMISSION_BYTES

MAX_MEMBERS = 10_000
MAX_UNZIPPED_BYTES = 64 * 1024**2
MAX_DIRECTORY_BYTES = 16 * 1024**2  # a zip's list of members: 10,000 of them with paths of 1,600 characters fit
EXERCISES = "exercises"


@dataclass(frozen=True)
class Entry:
    """One student's submission, as found in the class's folder, and why it is refused
    whole before anything in it is read ('' when it is not)."""

    student: str
    path: Path
    refused: str = ""

    @property
    def name(self) -> str:
        """The entry's name in the submissions folder, as text (:func:`as_text`)."""
        return as_text(self.path.name)


def as_text(name: str) -> str:
    """A file name as text any document can hold: the bytes of it that are not UTF-8
    (which Python keeps as lone surrogates) shown as U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass
class Collected:
    """What an entry holds for grading: each module found, by name, and why the entry
    cannot be graded at all ('' when it can); for each module without its file, the path
    (in the entry) of a file named almost like it, when there is one."""

    files: dict[str, bytes] = field(default_factory=dict)
    problem: str = ""
    near_misses: dict[str, str] = field(default_factory=dict)

    def digest(self) -> str:
        """sha256 of the module files (names and contents) and of the names of the files
        named almost right: whether what grading the entry says would change."""
        hashed = hashlib.sha256()
        for module in sorted(self.files):
            content = self.files[module]
            hashed.update(f"{module}\0{len(content)}\0".encode())
            hashed.update(content)
        for module in sorted(self.near_misses):
            hashed.update(f"near\0{module}\0{self.near_misses[module]}\0".encode())
        return hashed.hexdigest()

    def write(self, folder: Path) -> None:
        """The module files in ``folder`` (``<module>.py``), for ``grade --submission``."""
        folder.mkdir(parents=True, exist_ok=True)
        for module, content in self.files.items():
            (folder / f"{module}.py").write_bytes(content)


def student_key(name: str) -> str:
    """What two names of one student share: the name normalised (NFKC) and case-folded,
    as a disk that ignores case or Unicode form may take it (``Dave`` and ``dave``,
    ``José`` composed or decomposed, ``ｄａｖｅ`` in full-width letters: one key)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def entries(folder: Path) -> list[Entry]:
    """The class's entries: every file and folder of ``folder`` but dotted ones, by name.
    Entries whose students share a :func:`student_key` (``alice/`` and ``alice.zip``,
    ``Dave/`` and ``dave.zip``) are each refused, naming them all: which one to grade is
    the teacher's call, and their documents would be one file on a disk that ignores case.
    Two entries of one student name (``alice/`` and ``alice.zip``) are one refused entry.
    A student's name is text (:func:`as_text`): names that differ only in bytes that are
    not UTF-8 are one student."""
    named: list[tuple[str, Path]] = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.name.startswith("."):
            name = as_text(path.name)
            named.append((name[:-4] if path.suffix.lower() == ".zip" and path.is_file() else name, path))
    together: dict[str, list[str]] = {}
    for student, path in named:
        together.setdefault(student_key(student), []).append(as_text(path.name))
    found: dict[str, Entry] = {}
    for student, path in named:
        *others, last = together[student_key(student)]
        refused = f"{', '.join(others)} and {last} stand for one student: keep one of them" if others else ""
        found.setdefault(student, Entry(student, path, refused))
    return list(found.values())


def collect(entry: Entry, modules: list[str]) -> Collected:
    """The exercise files of ``entry`` (see the module's docstring); never raises for a
    bad submission: its problem says what is wrong."""
    if entry.refused:
        return Collected(problem=entry.refused)
    try:
        info = entry.path.lstat()
        if stat.S_ISDIR(info.st_mode):
            if all(os.path.lexists(entry.path / name) for name in ("HEAD", "objects")):
                collected = _from_files(_bare_repository(entry.path, modules), modules)
            else:
                collected = _from_files(_folder(entry.path), modules)
        elif stat.S_ISREG(info.st_mode) and entry.path.suffix.lower() == ".zip":
            collected = _from_files(_zip(entry.path), modules)
        else:
            return Collected(problem="not a folder, a git repository or a .zip file")
    except Unsafe as error:
        return Collected(problem=str(error))
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError,
            subprocess.SubprocessError) as error:  # a corrupt, encrypted or oddly compressed zip among them
        return Collected(problem=f"cannot be read: {error}")
    if not collected.files and not collected.problem:
        collected.problem = "no exercise file in it (" + ", ".join(f"{module}.py" for module in modules[:3]) + ", …)"
        if collected.near_misses:
            collected.problem += "; named almost right: " + ", ".join(
                f"{found} (rename it to {module}.py)" for module, found in collected.near_misses.items())
    return collected


def name_near_misses(report: Report, near_misses: dict[str, str], language: str) -> None:
    """Where an exercise of ``report`` could not be graded for want of its file (its
    ``file`` named as the student knows it, ``exercises/ex03_queue.py``) and the entry
    held a file named almost like it (``near_misses``, by module), its message names
    that file and what to rename it to, rather than a plain "No file"."""
    for exercise in report.exercises:
        module = Path(exercise.file).stem
        if exercise.problem and module in near_misses:
            exercise.problem = text("submission.near_miss", language, path=exercise.file,
                                    found=near_misses[module], name=f"{module}.py")


class Unsafe(Exception):
    """A submission refused whole: a path climbing out, a zip bomb."""


@dataclass(frozen=True)
class Reader:
    """How to read one file of an entry (None: larger than it may be), and its size as listed."""

    read: Callable[[], bytes | None]
    size: int


# An entry's files: (path relative to the entry, POSIX; its reader).
Listing = list[tuple[str, Reader]]


def _from_files(listing: Listing, modules: list[str]) -> Collected:
    """Each module's file: ``exercises/<module>.py`` first, else the one nearest the top
    (then the first by path). For a module with none, the file named almost like it
    (:func:`_meant_module`) nearest the top, when there is one."""
    collected = Collected()
    by_name: dict[str, list[tuple[int, int, str, Reader]]] = {}
    almost: dict[str, list[tuple[int, str]]] = {}
    for path, reader in listing:
        parts = path.split("/")
        module = parts[-1][:-3] if parts[-1].endswith(".py") else None
        if module in modules:
            preferred = 0 if parts[-2:-1] == [EXERCISES] else 1
            by_name.setdefault(module, []).append((preferred, len(parts), path, reader))
        else:
            almost.setdefault(_meant_module(parts[-1]), []).append((len(parts), path))
    for module, candidates in by_name.items():
        *_, reader = min(candidates, key=lambda candidate: candidate[:3])
        if reader.size <= MAX_SUBMISSION_BYTES:
            content = reader.read()
            if content is not None:
                collected.files[module] = content
    collected.near_misses = {module: as_text(min(almost[module])[1]) for module in modules
                             if module not in by_name and module in almost}
    return collected


_EXTENSIONS = re.compile(r"(?:\.(?:py|txt))+$")
_COPY_MARK = re.compile(r"(?:\s*\(\d+\)|[\s_-]*(?:copy|副本)(?:[\s_-]*\(?\d+\)?)?)$")
_SEPARATORS = re.compile(r"[\s.-]+")


def _meant_module(name: str) -> str:
    """The module a file's name stands for, once its case, a copy's mark (`` (1)``,
    `` - Copy``), extra extensions (``.py.txt``, ``.txt``) and other separators (``-``, a
    space) are set aside: ``Ex01_Process.py``, ``ex03_queue (1).py``, ``ex03_queue.py.txt``
    and ``ex03-queue.py`` stand for ``ex01_process`` and ``ex03_queue``."""
    stem = _EXTENSIONS.sub("", unicodedata.normalize("NFKC", name).casefold().strip())
    return _SEPARATORS.sub("_", _COPY_MARK.sub("", stem).strip())


def _folder(root: Path) -> Listing:
    listing: Listing = []
    for folder, subfolders, files in os.walk(root, followlinks=False):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in files:
            path = Path(folder) / name
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                listing.append((path.relative_to(root).as_posix(),
                                Reader(lambda path=path: _read_capped(path), info.st_size)))
    return listing


def _open_unlinked(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file, never through a symbolic link
    (``O_NOFOLLOW``: one put there after it was listed is refused, not followed)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Unsafe(f"{path.name} is not a regular file: not graded")
    return os.fdopen(fd, "rb")


def _read_capped(path: Path) -> bytes | None:
    with _open_unlinked(path) as file:
        content = file.read(MAX_SUBMISSION_BYTES + 1)
    return content if len(content) <= MAX_SUBMISSION_BYTES else None


_END = struct.Struct("<4s4H2LH")  # the end of central directory record
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
_MEMBER = struct.Struct("<4s24x3H12x")  # a member in the list: signature, then its name's, extra's, comment's sizes


def _refuse_crowded_zip(file: BinaryIO) -> None:
    """Refuse a zip that lists more than :data:`MAX_MEMBERS` members, before
    ``zipfile`` parses its list (which costs seconds and hundreds of MiB per million):
    first by the count its end record gives (the ZIP64 one's where there is one), then by
    the size of the list, then by counting the members listed there (an end record may
    lie). The records are found where ``zipfile`` finds them; a zip they do not describe
    is left to ``zipfile`` to refuse."""
    file.seek(0, os.SEEK_END)
    size = file.tell()
    if size < _END.size:
        return
    file.seek(size - _END.size)
    tail = file.read()
    if tail[:4] == b"PK\x05\x06" and tail[-2:] == b"\0\0":
        end_at = size - _END.size
    else:  # after a comment: the last signature of the last 64 KiB
        tail_start = max(0, size - _END.size - (1 << 16))
        file.seek(tail_start)
        found = file.read().rfind(b"PK\x05\x06")
        if found < 0 or tail_start + found + _END.size > size:
            return
        end_at = tail_start + found
        file.seek(end_at)
        tail = file.read(_END.size)
    *_, count, directory_size, _, _ = _END.unpack(tail)
    directory_end = end_at
    if end_at >= _ZIP64_LOCATOR.size + _ZIP64_END.size:
        file.seek(end_at - _ZIP64_LOCATOR.size - _ZIP64_END.size)
        zip64 = file.read(_ZIP64_END.size + _ZIP64_LOCATOR.size)
        if zip64[_ZIP64_END.size:_ZIP64_END.size + 4] == b"PK\x06\x07" and zip64[:4] == b"PK\x06\x06":
            *_, count, directory_size, _ = _ZIP64_END.unpack_from(zip64)
            directory_end = end_at - len(zip64)
    if count > MAX_MEMBERS:
        raise Unsafe(f"a zip of {count:,} members (at most {MAX_MEMBERS:,}): not graded")
    if directory_size > MAX_DIRECTORY_BYTES:
        raise Unsafe(f"a zip whose list of members takes {directory_size:,} bytes (at most "
                     f"{MAX_DIRECTORY_BYTES:,}): not graded")
    if directory_size > directory_end:
        return
    file.seek(directory_end - directory_size)
    directory = file.read(directory_size)
    position = members = 0
    while position + _MEMBER.size <= len(directory):
        signature, *sizes = _MEMBER.unpack_from(directory, position)
        if signature != b"PK\x01\x02":
            return
        members += 1
        if members > MAX_MEMBERS:
            raise Unsafe(f"a zip of more than {MAX_MEMBERS:,} members: not graded")
        position += _MEMBER.size + sum(sizes)


def _zip(path: Path) -> Listing:
    with path.open("rb") as file:
        _refuse_crowded_zip(file)
    archive = zipfile.ZipFile(path)
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:  # zipfile's own count, should it find a list the records above do not describe
        raise Unsafe(f"a zip of {len(members):,} members (at most {MAX_MEMBERS:,}): not graded")
    if sum(member.file_size for member in members) > MAX_UNZIPPED_BYTES:
        raise Unsafe(f"a zip that unzips to more than {MAX_UNZIPPED_BYTES // 1024**2} MiB (a zip bomb?): not graded")
    listing: Listing = []
    for member in members:
        name = member.filename.replace("\\", "/")
        if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in name.split("/"):
            raise Unsafe(f"a zip member's path leaves the zip ({member.filename!r}): not graded")
        if member.is_dir() or stat.S_ISLNK(member.external_attr >> 16):
            continue
        listing.append((posixpath.normpath(name), Reader(lambda member=member: _unzip(archive, member),
                                                         member.file_size)))
    return listing


def _unzip(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    with archive.open(member) as file:
        content = file.read(MAX_SUBMISSION_BYTES + 1)
    if len(content) > max(member.file_size, 0) or len(content) > MAX_SUBMISSION_BYTES:
        raise Unsafe(f"a zip member unzips to more than it says ({member.filename!r}): not graded")
    return content


def _bare_repository(path: Path, modules: list[str]) -> Listing:
    """The files of a bare repository's ``HEAD``, read without ever running git on the
    student's own repository: its ``config`` could name filters or commands to run. Its
    refs and objects (nothing else, at most :data:`MAX_UNZIPPED_BYTES`) are copied into a
    scratch repository with no configuration, whose ``ls-tree`` gives each file's size
    before ``cat-file blob`` (which applies no filter) reads it: only the files named
    after one of ``modules``, one git run each (the others are listed by name, unread).
    A symbolic link among them (``refs`` or ``objects`` linked to another student's
    repository, or a folder or file inside them) refuses the repository: it is never
    followed."""
    wanted = {f"{module}.py" for module in modules}
    sources = [path / "HEAD", path / "packed-refs", path / "refs", path / "objects"]
    total = 0
    scratch = Path(tempfile.mkdtemp(prefix="grade-repo-"))
    try:
        for source in sources:
            if not os.path.lexists(source):
                continue
            for item in [source, *(sorted(source.rglob("*")) if stat.S_ISDIR(source.lstat().st_mode) else [])]:
                info = item.lstat()
                relative = item.relative_to(path)
                if stat.S_ISLNK(info.st_mode):
                    raise Unsafe(f"a symbolic link in the repository ({relative.as_posix()}): not graded")
                if relative.as_posix() == "objects/info/alternates":
                    continue
                if stat.S_ISDIR(info.st_mode):
                    (scratch / relative).mkdir(parents=True, exist_ok=True)
                elif stat.S_ISREG(info.st_mode):
                    total += info.st_size
                    if total > MAX_UNZIPPED_BYTES:
                        raise Unsafe(f"a repository of more than {MAX_UNZIPPED_BYTES // 1024**2} MiB: not graded")
                    (scratch / relative).parent.mkdir(parents=True, exist_ok=True)
                    with _open_unlinked(item) as original, (scratch / relative).open("wb") as copy:
                        shutil.copyfileobj(original, copy)
        listed = _git_plain(scratch, "ls-tree", "-r", "-l", "-z", "HEAD")
        listing: Listing = []
        for line in filter(None, listed.split(b"\0")):
            meta, name = line.split(b"\t", 1)
            mode, kind, obj, size = meta.split()
            shown = posixpath.normpath(name.decode("utf-8", "replace"))
            if kind == b"blob" and mode in (b"100644", b"100755") and size.isdigit():
                read = posixpath.basename(shown) in wanted and int(size) <= MAX_SUBMISSION_BYTES
                data = _git_plain(scratch, "cat-file", "blob", obj.decode()) if read else None
                listing.append((shown, Reader(lambda data=data: data, int(size))))
        return listing
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _git_plain(repository: Path, *args: str) -> bytes:
    """git on a scratch repository, with no configuration but its own (none) read."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(repository), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_DIR": str(repository), "LC_ALL": "C"}
    done = subprocess.run(["git", *args], capture_output=True, stdin=subprocess.DEVNULL, timeout=60, env=env)
    if done.returncode != 0:
        raise OSError(done.stderr.decode(errors="replace").strip() or f"git {args[0]} failed")
    return done.stdout
