"""``grade batch SUBMISSIONS --out GRADES``: grade a whole class, each student in isolation.

Every entry of SUBMISSIONS is a student (:mod:`grader.submissions`: a folder, a git
repository or a zip). Their exercise files are read (a malformed entry, or one of two
entries standing for one student, gets its row with the reason, at once), then graded
by ``-j N`` worker processes: each worker is one long-lived grader process that grades
student after student (:func:`grader.runner.run` with ``--submission`` a folder of that
student's files), so a student costs their sandboxes and checks, not a ``grade`` start.
Each result is written at once to ``GRADES/students/<student>.json``; the gradebook
``GRADES/grades.csv`` is written when the batch ends, or is stopped (:mod:`grader.gradebook`).

- **Resumable**: a student whose document exists, for the same files (content hash)
  graded against the same course (its fingerprint: manifest, checks, grader version),
  is not graded again unless ``--force``. A batch stopped by Ctrl-C or killed loses
  nothing already written: run the same command again.
- **Contained**: a submission that crashes, hangs or floods is graded as ``grade`` grades
  it (its own verdicts); a worker that dies or stops answering (the grader's fault,
  never the student's) is replaced, and that student's row says so.
- **Sharded**: ``--shard i/n`` grades only the students whose name hashes to ``i``
  (sha256 of the name, modulo n): the same split on every machine, with no coordinator.
  ``grade report`` reads the shards' folders together.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from grader import __version__
from grader.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PASSED, EXIT_USAGE, add_course_option, course_root
from grader.declared import declare
from grader.formats._common import shown_path
from grader.gradebook import (GRADED, NOT_GRADED, ClassInfo, ExerciseColumn, StudentRecord, read_record,
                              record_path, remove_superseded, save_class, save_record, write_csv)
from grader.i18n import resolve_language
from grader.manifest import START_METHODS, Course, ManifestError, load_course
from grader.sandbox import disk
from grader.sandbox.isolation import isolation
from grader.submissions import Collected, Entry, collect, entries, name_near_misses

STUDENT_TIMEOUT_S = 900.0  # a worker silent for longer on one student is stuck: replaced
JOBS_PER_WORKER = 20  # a worker is replaced after this many students: its memory stays flat (+0.5 MiB a student otherwise)
STOP_GRACE_S = 20.0  # after Ctrl-C, how long workers get to stop their sandboxes


class Observer(Protocol):
    """Told how the batch goes (a progress bar, or lines)."""

    def started(self, total: int, skipped: int) -> None: ...

    def finished(self, record: StudentRecord) -> None: ...


@dataclass(frozen=True)
class BatchOptions:
    course_root: Path
    submissions: Path
    out: Path
    jobs: int = 1
    force: bool = False
    shard: tuple[int, int] = (1, 1)  # i of n, from 1
    start_methods: tuple[str, ...] = ()
    seed: int | None = None
    language: str | None = None
    student_timeout_s: float = STUDENT_TIMEOUT_S


@dataclass
class BatchResult:
    info: ClassInfo
    records: list[StudentRecord] = field(default_factory=list)  # every student of this shard, graded or not
    graded_now: int = 0
    skipped: int = 0
    interrupted: bool = False


def shard_of(student: str, shards: int) -> int:
    """The shard (1 to ``shards``) a student belongs to: the same on every machine."""
    digest = hashlib.sha256(student.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % shards + 1


def fingerprint(course: Course, options: BatchOptions | None = None) -> str:
    """What a grade depends on besides the submission: the grader that grades (every file
    of its package: code, catalogues, shipped reference times), the course's manifest and
    check files (hidden ones too), and the options that change verdicts (start methods,
    seed, language)."""
    hashed = hashlib.sha256(f"grade {__version__}\0".encode())
    package = Path(__file__).resolve().parent
    files = [(f"grader/{path.relative_to(package).as_posix()}", path) for path in sorted(package.rglob("*"))
             if path.is_file() and "__pycache__" not in path.parts]
    files.append(("exercises.yaml", course.root / "exercises.yaml"))
    for exercise in course.exercises:
        files += [(str(path.relative_to(course.root)), path) for path in (exercise.checks, exercise.hidden_checks)
                  if path is not None]
    for name, path in files:
        hashed.update(name.encode() + b"\0")
        hashed.update(path.read_bytes() if path.is_file() else b"")
    if options is not None:
        hashed.update(repr((sorted(options.start_methods), options.seed, options.language)).encode())
    return hashed.hexdigest()[:16]


def class_info(course: Course, shard: tuple[int, int], options: BatchOptions | None = None) -> ClassInfo:
    columns = [ExerciseColumn(ex.id, ex.slug, ex.title.get("en"), declare(ex).max_score(ex)) for ex in course.exercises]
    return ClassInfo(fingerprint(course, options), columns, f"{shard[0]}/{shard[1]}")


def run_batch(options: BatchOptions, observer: Observer | None = None) -> BatchResult:
    """Grade the class (this shard of it); every student's record, in name order. Ctrl-C
    at any moment stops it with every document written so far, and the gradebook of them."""
    course = load_course(options.course_root)
    info = class_info(course, options.shard, options)
    options.out.mkdir(parents=True, exist_ok=True)
    save_class(options.out, info)
    modules = [exercise.module for exercise in course.exercises]
    mine = [entry for entry in entries(options.submissions) if shard_of(entry.student, options.shard[1]) == options.shard[0]]
    remove_superseded(options.out, {entry.student for entry in mine})
    result = BatchResult(info)
    records: dict[str, StudentRecord] = {}
    try:
        jobs: list[tuple[Entry, Collected]] = []
        malformed: list[StudentRecord] = []
        for entry in mine:
            collected = collect(entry, modules)
            done = read_record(record_path(options.out, entry.student))
            if (not options.force and done is not None and done.digest == collected.digest()
                    and done.course == info.course and (done.status == GRADED or done.reason == collected.problem)):
                records[entry.student] = done
                result.skipped += 1
            elif collected.problem:
                records[entry.student] = StudentRecord(entry.student, entry.name, collected.digest(), info.course,
                                                       NOT_GRADED, collected.problem)
                save_record(options.out, records[entry.student])
                malformed.append(records[entry.student])
            else:
                jobs.append((entry, collected))
        if observer is not None:
            observer.started(len(mine), result.skipped)
            for record in malformed:
                observer.finished(record)
        if jobs:
            _measure_timeouts(course)
            _grade_jobs(options, info, jobs, observer, records, result)
    except KeyboardInterrupt:
        result.interrupted = True
    result.records = [records[entry.student] for entry in mine if entry.student in records]
    write_csv(options.out, info, result.records)
    return result


def _grade_jobs(options: BatchOptions, info: ClassInfo, jobs: list[tuple[Entry, Collected]],
                observer: Observer | None, records: dict[str, StudentRecord], result: BatchResult) -> None:
    with tempfile.TemporaryDirectory(prefix="grade-batch-") as scratch:
        pool = _Pool(options, info, Path(scratch))
        try:
            for record in pool.grade(jobs, observer):
                records[record.student] = record
                result.graded_now += 1
        except KeyboardInterrupt:
            result.interrupted = True
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
            try:
                pool.stop()
            finally:
                signal.signal(signal.SIGINT, previous)
        finally:
            pool.close()


def _measure_timeouts(course: Course) -> None:
    """Measure the reference solutions (``timeout: auto``) once, alone, before the
    workers start: measured by two busy workers at once, they would be too slow."""
    from grader.timeouts import Timeouts

    timeouts = Timeouts(course)
    for exercise in course.exercises:
        timeouts.resolve(exercise)


@dataclass
class _Worker:
    process: subprocess.Popen
    tmp: Path  # its TMPDIR, where its sessions' folders are: removed (mounts and all) once it has ended
    jobs_done: int = 0
    student: str | None = None  # the one it is grading
    since: float = 0.0
    job: tuple[Entry, Collected] | None = None


class _Pool:
    """The worker processes (``python -m grader.batch --worker``): one job (a student) at
    a time each, as a line of JSON on its stdin; it answers with a line on its stdout
    when the student's document is written."""

    def __init__(self, options: BatchOptions, info: ClassInfo, scratch: Path) -> None:
        self.options = options
        self.info = info
        self.scratch = scratch
        self.workers: list[_Worker] = []
        self.selector = selectors.DefaultSelector()
        self.logs = options.out / ".logs"
        self.logs.mkdir(exist_ok=True)

    def _start(self) -> _Worker:
        log = (self.logs / f"worker-{len(self.workers) + 1}.log").open("ab")
        tmp = self.scratch / f"tmp-{len(self.workers) + 1}"
        tmp.mkdir()
        tmp.chmod(0o755)  # the sessions' own users go through it (the scratch folder above is 0700: shown to them)
        # Run in the folder holding this grader package: `python -m` imports from the
        # working folder first, which must never be one a student's files could be in.
        process = subprocess.Popen(
            [sys.executable, "-m", "grader.batch", "--worker", "--course", str(self.options.course_root)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True,
            cwd=Path(__file__).resolve().parents[1], env={**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp)})
        log.close()
        worker = _Worker(process, tmp)
        self.workers.append(worker)
        self.selector.register(process.stdout, selectors.EVENT_READ, worker)
        return worker

    def grade(self, jobs: list[tuple[Entry, Collected]], observer: Observer | None):
        """Yield each student's record as it is written. A worker that dies, or goes
        silent for longer than the student timeout, is replaced (that student's record
        says so); a worker is also replaced after :data:`JOBS_PER_WORKER` students."""
        waiting = list(reversed(jobs))
        idle = [self._start() for _ in range(min(self.options.jobs, len(jobs)))]
        busy: list[_Worker] = []
        while waiting or busy:
            finished: list[StudentRecord] = []
            while idle and waiting:
                worker = idle.pop()
                job = waiting.pop()
                try:
                    self._send(worker, job)
                    busy.append(worker)
                except OSError:  # it died while idle
                    finished.append(self._failed(worker, self._died(worker)))
                    self._retire(worker)
                    idle.append(self._start())
            for key, _ in self.selector.select(timeout=1.0):
                worker = key.data
                line = worker.process.stdout.readline()
                if worker not in busy:  # an idle worker that ended: replace it
                    self._retire(worker)
                    idle.remove(worker)
                    if waiting:
                        idle.append(self._start())
                    continue
                busy.remove(worker)
                if not line:  # it died while grading
                    finished.append(self._failed(worker, self._died(worker)))
                    self._retire(worker)
                else:
                    finished.append(self._answer(worker))
                    if worker.jobs_done < JOBS_PER_WORKER:
                        idle.append(worker)
                        continue
                    self._retire(worker)
                if waiting:
                    idle.append(self._start())
            for worker in [w for w in busy if time.monotonic() - w.since > self.options.student_timeout_s]:
                finished.append(self._failed(worker, f"the grader did not finish grading in "
                                                     f"{self.options.student_timeout_s:g} s (a fault of the grader)"))
                busy.remove(worker)
                self._retire(worker)
                if waiting:
                    idle.append(self._start())
            for record in finished:
                if observer is not None:
                    observer.finished(record)
                yield record

    def _send(self, worker: _Worker, job: tuple[Entry, Collected]) -> None:
        entry, collected = job
        folder = self.scratch / f"{len(self.workers)}-{worker.jobs_done}-{worker.process.pid}"
        collected.write(folder)
        worker.student, worker.since, worker.job = entry.student, time.monotonic(), job
        message = {"student": entry.student, "entry": entry.name, "folder": str(folder),
                   "digest": collected.digest(), "near_misses": collected.near_misses, "course": self.info.course,
                   "out": str(self.options.out),
                   "seed": self.options.seed, "start_methods": list(self.options.start_methods),
                   "language": self.options.language}
        worker.process.stdin.write((json.dumps(message) + "\n").encode())
        worker.process.stdin.flush()

    def _answer(self, worker: _Worker) -> StudentRecord:
        """The record the worker says it wrote (it must be there, for these very files)."""
        worker.jobs_done += 1
        assert worker.job is not None
        record = read_record(record_path(self.options.out, worker.job[0].student))
        if record is None or record.digest != worker.job[1].digest() or record.course != self.info.course:
            return self._failed(worker, "the grader answered without writing the student's document (a fault of "
                                        "the grader)")
        return record

    def _died(self, worker: _Worker) -> str:
        code = worker.process.poll()
        return (f"the grader stopped while grading it (exit status {code}: a fault of the grader, see "
                f"{self.logs.name}/ in the grades folder)")

    def _failed(self, worker: _Worker, reason: str) -> StudentRecord:
        assert worker.job is not None
        entry, collected = worker.job
        record = StudentRecord(entry.student, entry.name, collected.digest(), self.info.course, NOT_GRADED, reason,
                               seconds=time.monotonic() - worker.since)
        save_record(self.options.out, record)
        return record

    def _retire(self, worker: _Worker) -> None:
        """Close the worker's stdin (it ends after its current student), and stop it if it
        does not: SIGINT first (it stops its sandboxes), then SIGKILL."""
        self.selector.unregister(worker.process.stdout)
        try:
            worker.process.stdin.close()
        except OSError:
            pass
        for signum, wait_s in ((None, 1.0), (signal.SIGINT, STOP_GRACE_S), (signal.SIGKILL, None)):
            if signum is not None:
                _signal_group(worker.process, signum)
            try:
                worker.process.wait(wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        worker.process.stdout.close()
        disk.remove_below(worker.tmp)  # a worker stopped mid-session left its session folder (a tmpfs, as root)

    def stop(self) -> None:
        """Ctrl-C: every worker stops its student's sandboxes (nothing half-written stays)."""
        for worker in self.workers:
            if worker.process.poll() is None:
                _signal_group(worker.process, signal.SIGINT)
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in self.workers:
            try:
                worker.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(worker.process, signal.SIGKILL)

    def close(self) -> None:
        for worker in self.workers:
            if not worker.process.stdout.closed:
                self._retire(worker)
        self.selector.close()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


# --- the worker --------------------------------------------------------------------------

def worker(root: Path) -> int:
    """Grade the students given on stdin, one JSON line each, until stdin closes; answer
    each with a line on stdout once its document is written. What the grader prints
    goes to stderr (the batch's log), never into the answers."""
    from grader.runner import Options, run

    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        job = json.loads(line)
        started = time.monotonic()
        options = Options(course_root=root, submission=Path(job["folder"]), teacher=True, seed=job["seed"],
                          start_methods=tuple(job["start_methods"]), language=job["language"])
        try:
            report = run(options)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        if report.interrupted:  # Ctrl-C during the run: no half-graded document
            return EXIT_INTERRUPTED
        report.name_files(Path(job["folder"]), {exercise.id: f"exercises/{Path(exercise.file).name}"
                                                for exercise in report.exercises})
        name_near_misses(report, job["near_misses"], resolve_language(job["language"]))
        record = StudentRecord(job["student"], job["entry"], job["digest"], job["course"], GRADED,
                               report=report, seconds=time.monotonic() - started)
        save_record(Path(job["out"]), record)
        answers.write(json.dumps({"student": job["student"]}) + "\n")
    return EXIT_PASSED


# --- the command ---------------------------------------------------------------------------

class BatchProgress:
    """A progress bar with the ETA on a terminal (rich); a line per student otherwise."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.bar = None
        self.task = None
        self.done = 0
        self.total = 0

    def __enter__(self) -> BatchProgress:
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
                                TimeRemainingColumn(), TextColumn("{task.description}"), console=self.console,
                                transient=True)
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def started(self, total: int, skipped: int) -> None:
        self.total, self.done = total, skipped
        if self.bar is not None:
            self.task = self.bar.add_task("", total=total, completed=skipped)
        elif skipped:
            print(f"{skipped} of {total} students already graded (same files, same course): kept", file=sys.stderr)

    def finished(self, record: StudentRecord) -> None:
        self.done += 1
        said = f"{record.score}/{record.report.max_score}" if record.report is not None else shown_path(record.reason)
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{shown_path(record.student)}: {said}"[:60])
        else:
            print(f"[{self.done}/{self.total}] {shown_path(record.student)}: {said} ({record.seconds:.1f} s)",
                  file=sys.stderr)

    def summary(self, result: BatchResult, out: Path) -> None:
        not_graded = [record for record in result.records if record.status == NOT_GRADED]
        print(f"{len(result.records)} students: {len(result.records) - len(not_graded)} graded, "
              f"{len(not_graded)} not graded ({result.graded_now} graded now, {result.skipped} kept from before)")
        for record in not_graded:
            print(f"  not graded: {shown_path(record.student)}: {shown_path(record.reason)}")
        print(f"Gradebook: {out / 'grades.csv'}  ·  one JSON per student in {out / 'students'}")
        if result.interrupted:
            print("Interrupted: run the same command again to grade the rest.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade batch", description="Grade every student of a class: each entry of SUBMISSIONS (a folder, a git "
        "repository or a .zip per student) in isolation; one JSON per student and grades.csv in --out.",
        epilog="Exit status: 0 when every student was graded (whatever their grades), 1 when a student could not be "
               "graded, 2 for a usage error, 130 when interrupted (run the same command again to go on).")
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS", help="the folder of the students' entries")
    parser.add_argument("--out", type=Path, required=True, metavar="GRADES",
                        help="the grades folder (made if needed; what is in it already is kept and reused)")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="grade N students at once")
    parser.add_argument("--force", action="store_true", help="grade again the students already graded")
    parser.add_argument("--shard", metavar="I/N", default="1/1",
                        help="grade only shard I of N (the same split on every machine; grade report merges them)")
    parser.add_argument("--start-method", action="append", default=[], choices=START_METHODS,
                        dest="start_methods", metavar="METHOD", help="only this start method (repeatable)")
    parser.add_argument("--seed", type=int, help="the same inputs for every student (default: new ones each)")
    parser.add_argument("--lang", choices=("en", "zh"), help="language of the feedback in the documents")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    add_course_option(parser)
    return parser


def parse_shard(parser: argparse.ArgumentParser, value: str) -> tuple[int, int]:
    index, sep, count = value.partition("/")
    if not (sep and index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        parser.error(f"--shard {value}: expected I/N with 1 <= I <= N (e.g. 2/4)")
    return int(index), int(count)


def main(argv: list[str]) -> int:
    if "--worker" in argv:
        parser = argparse.ArgumentParser(prog="grade batch --worker")
        parser.add_argument("--worker", action="store_true")
        add_course_option(parser)
        return worker(parser.parse_args(argv).course)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("-j/--jobs must be at least 1")
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions}: not a folder of submissions")
    options = BatchOptions(course_root(parser, args).resolve(), args.submissions, args.out.resolve(), args.jobs,
                           args.force, parse_shard(parser, args.shard), tuple(args.start_methods), args.seed,
                           resolve_language(args.lang))
    refusal = isolation().refusal()
    if refusal:
        print(f"grade batch: error: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    progress = BatchProgress()
    try:
        with progress:
            result = run_batch(options, progress)
    except ManifestError as error:
        print(f"grade batch: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    progress.summary(result, options.out)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if any(record.status == NOT_GRADED for record in result.records) else EXIT_PASSED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
