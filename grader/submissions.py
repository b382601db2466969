"""A class's submissions: one entry per student, read safely into exercise files.

``grade batch SUBMISSIONS`` takes every entry of the folder SUBMISSIONS (names starting
with a dot aside), in name order; the student is the entry's name (a zip's without
``.zip``). An entry is:

- a folder (a student's copy of the course, a git clone, or just their files): each
  exercise's file is ``exercises/<module>.py`` if there is one, else the
  ``<module>.py`` nearest the folder's top (``.git`` and other dotted folders aside);
  symbolic links are never followed;
- a bare git repository (a folder with ``HEAD`` and ``objects/``): its ``HEAD``, read
  the same way (git never runs on the student's repository itself, whose configuration
  could name commands: see :func:`_bare_repository`);
- a ``.zip``: read the same way, without extracting anything to disk. A zip is refused
  whole when a member's path is absolute or climbs out (``../``), when it holds more than
  :data:`MAX_MEMBERS` members or :data:`MAX_UNZIPPED_BYTES` once unzipped (a zip bomb), or
  when a member unzips to more than it said it would.

Only the course's module files are read, each at most
:data:`~grader.runner.MAX_SUBMISSION_BYTES` (a larger one is left out: the grader then
says the file is missing). Anything else (another kind of file, an entry with no exercise
file at all, a corrupt zip) is a submission that cannot be graded, with the reason.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import stat
import subprocess
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from grader.runner import MAX_SUBMISSION_BYTES

MAX_MEMBERS = 10_000
MAX_UNZIPPED_BYTES = 64 * 1024**2
EXERCISES = "exercises"


@dataclass(frozen=True)
class Entry:
    """One student's submission, as found in the class's folder."""

    student: str
    path: Path


@dataclass
class Collected:
    """What an entry holds for grading: each module found, by name, and why the entry
    cannot be graded at all ('' when it can)."""

    files: dict[str, bytes] = field(default_factory=dict)
    problem: str = ""

    def digest(self) -> str:
        """sha256 of the module files (names and contents): whether a submission changed."""
        hashed = hashlib.sha256()
        for module in sorted(self.files):
            content = self.files[module]
            hashed.update(f"{module}\0{len(content)}\0".encode())
            hashed.update(content)
        return hashed.hexdigest()

    def write(self, folder: Path) -> None:
        """The module files in ``folder`` (``<module>.py``), for ``grade --submission``."""
        folder.mkdir(parents=True, exist_ok=True)
        for module, content in self.files.items():
            (folder / f"{module}.py").write_bytes(content)


class DuplicateStudents(Exception):
    """Two entries stand for one student (``alice/`` and ``alice.zip``)."""


def entries(folder: Path) -> list[Entry]:
    """The class's entries: every file and folder of ``folder`` but dotted ones, by name.
    Two entries for one student are refused: which one to grade is the teacher's call."""
    found: dict[str, Entry] = {}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith("."):
            continue
        student = path.name[:-4] if path.suffix.lower() == ".zip" and path.is_file() else path.name
        if student in found:
            raise DuplicateStudents(f"{found[student].path.name} and {path.name} in {folder} are both {student!r}: "
                                    "keep one")
        found[student] = Entry(student, path)
    return list(found.values())


def collect(entry: Entry, modules: list[str]) -> Collected:
    """The exercise files of ``entry`` (see the module's docstring); never raises for a
    bad submission: its problem says what is wrong."""
    try:
        info = entry.path.lstat()
        if stat.S_ISDIR(info.st_mode):
            if (entry.path / "HEAD").is_file() and (entry.path / "objects").is_dir():
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
    return collected


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
    (then the first by path)."""
    collected = Collected()
    by_name: dict[str, list[tuple[int, int, str, Reader]]] = {}
    for path, reader in listing:
        parts = path.split("/")
        module = parts[-1][:-3] if parts[-1].endswith(".py") else None
        if module in modules:
            preferred = 0 if parts[-2:-1] == [EXERCISES] else 1
            by_name.setdefault(module, []).append((preferred, len(parts), path, reader))
    for module, candidates in by_name.items():
        *_, reader = min(candidates, key=lambda candidate: candidate[:3])
        if reader.size <= MAX_SUBMISSION_BYTES:
            content = reader.read()
            if content is not None:
                collected.files[module] = content
    return collected


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


def _read_capped(path: Path) -> bytes | None:
    with path.open("rb") as file:
        content = file.read(MAX_SUBMISSION_BYTES + 1)
    return content if len(content) <= MAX_SUBMISSION_BYTES else None


def _zip(path: Path) -> Listing:
    archive = zipfile.ZipFile(path)
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise Unsafe(f"a zip of {len(members)} members (at most {MAX_MEMBERS}): not graded")
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
    refs and objects (nothing else, no symbolic link, at most :data:`MAX_UNZIPPED_BYTES`)
    are copied into a scratch repository with no configuration, whose ``ls-tree`` gives
    each file's size before ``cat-file blob`` (which applies no filter) reads it: only the
    files named after one of ``modules``, one git run each."""
    wanted = {f"{module}.py" for module in modules}
    sources = [path / "HEAD", path / "packed-refs", path / "refs", path / "objects"]
    total = 0
    scratch = Path(tempfile.mkdtemp(prefix="grade-repo-"))
    try:
        for source in sources:
            for item in ([source] if source.is_file() else sorted(source.rglob("*")) if source.is_dir() else []):
                info = item.lstat()
                relative = item.relative_to(path)
                if stat.S_ISLNK(info.st_mode) or relative.as_posix() == "objects/info/alternates":
                    continue
                if stat.S_ISDIR(info.st_mode):
                    (scratch / relative).mkdir(parents=True, exist_ok=True)
                elif stat.S_ISREG(info.st_mode):
                    total += info.st_size
                    if total > MAX_UNZIPPED_BYTES:
                        raise Unsafe(f"a repository of more than {MAX_UNZIPPED_BYTES // 1024**2} MiB: not graded")
                    (scratch / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(item, scratch / relative)
        listed = _git_plain(scratch, "ls-tree", "-r", "-l", "-z", "HEAD")
        listing: Listing = []
        for line in filter(None, listed.split(b"\0")):
            meta, name = line.split(b"\t", 1)
            mode, kind, obj, size = meta.split()
            shown = posixpath.normpath(name.decode("utf-8", "replace"))
            if (kind == b"blob" and mode in (b"100644", b"100755") and size.isdigit()
                    and posixpath.basename(shown) in wanted):
                data = _git_plain(scratch, "cat-file", "blob", obj.decode()) if int(size) <= MAX_SUBMISSION_BYTES \
                    else None
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
