"""A class's grades on disk, as ``grade batch`` writes them and ``grade report`` reads them.

A grades folder holds:

- ``students/<student>.json``: one document per student (:class:`StudentRecord`,
  schema ``grade-student/1``; the file named by :func:`record_path`): the submission's
  content hash, the course it was graded with, whether it was graded (else why not) and
  the complete report (``grade/1``, teacher view: hidden checks included);
- ``batch.json``: the course's exercises and their max scores (:class:`ClassInfo`);
- ``grades.csv``: the gradebook, one row per student (:func:`write_csv`).

Every file is written atomically: a batch stopped at any moment leaves whole files only.
The folders of several shards (``grade batch --shard i/n``) merge by reading them
together (:func:`load`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.progress import write_atomically
from grader.results import Report

STUDENT_SCHEMA = "grade-student/1"
CLASS_SCHEMA = "grade-batch/1"
STUDENTS = "students"
CLASS_FILE = "batch.json"
CSV_FILE = "grades.csv"
GRADED, NOT_GRADED = "graded", "not graded"
_PLAIN_NAME = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,99}")
_HASHED_END = re.compile(r"-[0-9a-f]{10}$")  # how the name of a document of a hashed name ends


@dataclass
class StudentRecord:
    """One student's grading: ``status`` graded (``report`` holds it) or not graded
    (``reason`` says why: a malformed submission, the grader's own failure)."""

    student: str
    entry: str  # the entry's name in the submissions folder
    digest: str  # sha256 of the exercise files graded ('' when none could be read)
    course: str  # the course's fingerprint (grade batch --force is not needed when it changes)
    status: str
    reason: str = ""
    report: Report | None = None
    seconds: float = 0.0  # how long grading it took (wall clock)

    @property
    def score(self) -> int:
        return self.report.score if self.report is not None else 0

    def to_json(self) -> dict:
        return {"schema": STUDENT_SCHEMA, "student": self.student, "entry": self.entry, "digest": self.digest,
                "course": self.course, "status": self.status, "reason": self.reason,
                "seconds": round(self.seconds, 3), "report": self.report.to_json() if self.report else None}

    @classmethod
    def from_json(cls, data: dict) -> StudentRecord:
        if not isinstance(data, dict) or data.get("schema") != STUDENT_SCHEMA:
            raise ValueError(f"not a {STUDENT_SCHEMA} document")
        try:
            report = Report.from_json(data["report"]) if data["report"] is not None else None
            return cls(student=data["student"], entry=data["entry"], digest=data["digest"], course=data["course"],
                       status=data["status"], reason=data["reason"], report=report, seconds=data["seconds"])
        except (KeyError, TypeError) as error:
            raise ValueError(f"a {STUDENT_SCHEMA} document without a field it needs ({error})") from error


@dataclass(frozen=True)
class ExerciseColumn:
    id: str
    slug: str
    title: str
    max_score: int


@dataclass
class ClassInfo:
    """What a grades folder was graded against: the course's fingerprint and exercises."""

    course: str
    exercises: list[ExerciseColumn] = field(default_factory=list)
    shard: str | None = None  # "i/n" when the folder holds one shard of the class
    missing_shards: list[str] = field(default_factory=list)  # set by load(partial=True): the shards not given

    def to_json(self) -> dict:
        return {"schema": CLASS_SCHEMA, "course": self.course, "shard": self.shard,
                "exercises": [vars(column) for column in self.exercises]}

    @classmethod
    def from_json(cls, data: dict) -> ClassInfo:
        if not isinstance(data, dict) or data.get("schema") != CLASS_SCHEMA:
            raise ValueError(f"not a {CLASS_SCHEMA} document")
        return cls(course=data["course"], shard=data.get("shard"),
                   exercises=[ExerciseColumn(**column) for column in data["exercises"]])

    @property
    def max_score(self) -> int:
        return sum(column.max_score for column in self.exercises)


def record_path(folder: Path, student: str) -> Path:
    """Where a student's document goes: their name when it is a plain file name no disk
    takes for another one (lower-case ASCII letters, digits, ``_``, ``.``, ``-``; not
    ending like a hashed name), else a cleaned name with a hash of the real one
    (``Dave-5f2c...``). Two names never share a file, even on a disk that ignores case or
    Unicode form: plain names differ in more than case, hashed ones in their hash."""
    if _PLAIN_NAME.fullmatch(student) and not _HASHED_END.search(student):
        name = student
    else:
        cleaned = re.sub(r"[^\w.-]+", "_", student).strip("._")[:60] or "student"
        name = f"{cleaned}-{hashlib.sha256(student.encode('utf-8', 'surrogateescape')).hexdigest()[:10]}"
    return folder / STUDENTS / f"{name}.json"


def remove_superseded(folder: Path, students: set[str]) -> None:
    """Remove the documents of ``students`` found elsewhere than at their
    :func:`record_path` (written by a grader that named the files otherwise): a student
    has one document, which is graded again when it is not there."""
    expected = {record_path(folder, student).name for student in students}
    for path in sorted((folder / STUDENTS).glob("*.json")):
        if path.name not in expected:
            record = read_record(path)
            if record is not None and record.student in students:
                path.unlink()


def save_record(folder: Path, record: StudentRecord) -> Path:
    path = record_path(folder, record.student)
    write_atomically(path, (json.dumps(record.to_json(), ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return path


def read_record(path: Path) -> StudentRecord | None:
    """The document at ``path``; None when it is missing or unreadable (graded again)."""
    try:
        return StudentRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def save_class(folder: Path, info: ClassInfo) -> None:
    write_atomically(folder / CLASS_FILE, (json.dumps(info.to_json(), ensure_ascii=False, indent=1) + "\n").encode())


class GradebookError(Exception):
    """Grades folders that cannot be read together (said in one line)."""


def load(folders: list[Path], partial: bool = False) -> tuple[ClassInfo, list[StudentRecord]]:
    """The class's records from one grades folder or several (the shards of one class,
    graded against the same course), by student name. Every shard must be there once
    (unless ``partial``), and every record graded against the course of its folder."""
    info: ClassInfo | None = None
    records: dict[str, tuple[Path, StudentRecord]] = {}
    shards: dict[int, Path] = {}
    count = 0
    for folder in folders:
        try:
            here = ClassInfo.from_json(json.loads((folder / CLASS_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise GradebookError(f"{folder}: not a grades folder of grade batch ({CLASS_FILE}: {error})") from None
        if info is not None and here.course != info.course:
            raise GradebookError(f"{folder} was graded against another version of the course than {folders[0]}")
        info = info or here
        index, _, total = (here.shard or "1/1").partition("/")
        if count and int(total) != count:
            raise GradebookError(f"{folder} is shard {here.shard}, but {shards[min(shards)]} is one of {count}")
        count = int(total)
        if int(index) in shards:
            raise GradebookError(f"{shards[int(index)]} and {folder} are both shard {here.shard}")
        shards[int(index)] = folder
        for path in sorted((folder / STUDENTS).glob("*.json")):
            record = read_record(path)
            if record is None:
                raise GradebookError(f"{path}: not a {STUDENT_SCHEMA} document")
            if record.course != here.course:
                raise GradebookError(f"{path} was graded against another version of the course or other options "
                                     f"than the rest of {folder}: grade batch it again")
            if record.student in records:
                raise GradebookError(f"{record.student!r} is graded in both {records[record.student][0]} and {path}")
            records[record.student] = (path, record)
    if info is None:
        raise GradebookError("no grades folder given")
    missing = [f"{index}/{count}" for index in sorted(set(range(1, count + 1)) - set(shards))]
    if missing and not partial:
        raise GradebookError(f"shard(s) {', '.join(missing)} missing: give every shard's folder (or --partial, to "
                             "read what is there)")
    info.missing_shards = missing
    return info, [record for _, record in sorted(records.values(), key=lambda item: item[1].student)]


def csv_text(info: ClassInfo, records: list[StudentRecord]) -> str:
    """The gradebook: student, each exercise's score, total, max score, status, reason.
    UTF-8 with a byte-order mark (spreadsheets then read names right), every field
    quoted as needed, and a cell a spreadsheet would take for a formula (``=``, ``+``,
    ``-``, ``@`` first) starting with ``'``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["student", *(column.id for column in info.exercises), "total", "max_score", "status", "reason"])
    for record in records:
        scores = {e.id: e.score for e in record.report.exercises} if record.report is not None else {}
        cells = [str(scores[column.id]) if column.id in scores else "" for column in info.exercises]
        total = str(record.score) if record.status == GRADED else ""
        writer.writerow([_cell(record.student), *cells, total, str(info.max_score), record.status, _cell(record.reason)])
    return "\ufeff" + buffer.getvalue()


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write_csv(folder: Path, info: ClassInfo, records: list[StudentRecord], path: Path | None = None) -> Path:
    path = path or folder / CSV_FILE
    write_atomically(path, csv_text(info, records).encode("utf-8"))
    return path
