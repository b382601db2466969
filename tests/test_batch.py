"""``grade batch``: a class of submissions (folders, a git repository, zips, and
malformed ones), graded in isolation, resumably, in shards; and ``grade report`` on it."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import unicodedata
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from grader.batch import BatchOptions, run_batch, shard_of
from grader.gradebook import GRADED, NOT_GRADED, load, read_record, record_path

SOLUTION_1 = ROOT / "solutions" / "ex01_process.py"
HANGS = "def collect(ns):\n    while True:\n        pass\n"
SPINS = "def gather(sizes):\n    while True:\n        pass\n"  # exercise-9: its timeout is the longest


def batch(*args: str, timeout: float = 600.0, text: bool = True) -> subprocess.CompletedProcess:
    """``grade batch`` with this course, fork only, seed 1; its output as text, or as the
    bytes it wrote (``text=False``: a carriage return stays one)."""
    return subprocess.run([sys.executable, "-m", "grader", "batch", "--course", str(ROOT), "--start-method", "fork",
                           "--seed", "1", *args], capture_output=True, text=text, timeout=timeout,
                          stdin=subprocess.DEVNULL, env={**os.environ, "GRADE_LANG": "en"})


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.fixture
def klass(tmp_path: Path) -> Path:
    """A class of nine: right, wrong, hanging, malformed, and names a spreadsheet must keep."""
    folder = tmp_path / "submissions"
    (folder / "alice" / "exercises").mkdir(parents=True)
    shutil.copyfile(SOLUTION_1, folder / "alice" / "exercises" / "ex01_process.py")
    make_zip(folder / "bob.zip", {"my-work/ex01_process.py": SOLUTION_1.read_bytes(),
                                  "my-work/ex03_queue.py": HANGS.encode()})
    (folder / "dave").mkdir()  # nothing in it
    (folder / "dave" / "notes.txt").write_text("I did not do it\n")
    make_zip(folder / "eve.zip", {"../../escape/ex01_process.py": b"print('out')\n"})
    with zipfile.ZipFile(folder / "frank.zip", "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("ex01_process.py", b"0" * (65 * 1024 * 1024))
    (folder / "王小明").mkdir()
    (folder / "王小明" / "ex01_process.py").write_bytes(b"\x00\x01\xff binary, not Python")
    (folder / "=HYPERLINK(1)").mkdir()
    shutil.copyfile(SOLUTION_1, folder / "=HYPERLINK(1)" / "ex01_process.py")
    (folder / "notes.txt").write_text("not a submission\n")
    repo = tmp_path / "carol-src"
    (repo / "exercises").mkdir(parents=True)
    shutil.copyfile(SOLUTION_1, repo / "exercises" / "ex01_process.py")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "done"], cwd=repo, check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(folder / "carol")], check=True)
    return folder


def rows(out: Path) -> dict[str, dict[str, str]]:
    text = (out / "grades.csv").read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets read the UTF-8 names right
    return {row["student"]: row for row in csv.DictReader(io.StringIO(text[1:]))}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_class_is_graded_each_student_in_isolation(klass: Path, tmp_path: Path) -> None:
    out = tmp_path / "grades"
    done = batch(str(klass), "--out", str(out), "-j", "2")
    assert done.returncode == 1, done.stderr  # some could not be graded
    graded = rows(out)
    assert set(graded) == {"alice", "bob", "carol", "dave", "eve", "frank", "王小明", "'=HYPERLINK(1)", "notes.txt"}
    assert graded["alice"]["exercise-1"] == "1" and graded["alice"]["status"] == GRADED
    assert graded["carol"]["exercise-1"] == "1"  # from the bare repository's HEAD
    assert graded["bob"]["exercise-1"] == "1" and graded["bob"]["exercise-3"] == "0"
    assert graded["'=HYPERLINK(1)"]["exercise-1"] == "1"  # the name kept, not a formula
    assert graded["王小明"]["status"] == GRADED and graded["王小明"]["exercise-1"] == "0"
    assert graded["alice"]["total"] == "1" and graded["alice"]["max_score"] == "10"
    for student, words in (("dave", "no exercise file"), ("eve", "leaves the zip"), ("frank", "zip bomb"),
                           ("notes.txt", "not a folder")):
        assert graded[student]["status"] == NOT_GRADED and words in graded[student]["reason"], graded[student]
        assert graded[student]["total"] == ""
    record = read_record(record_path(out, "bob"))
    assert record is not None and record.report is not None
    statuses = {e.id: e.status.value for e in record.report.exercises}
    assert statuses["exercise-3"] == "timeout" and statuses["exercise-2"] == "error"  # hung; no file
    assert record.report.exercises[0].file == "exercises/ex01_process.py"
    assert not (out.parent / "escape").exists()
    assert "9 students: 5 graded, 4 not graded" in done.stdout


def test_other_options_grade_again(tmp_path: Path) -> None:
    """A grade depends on the start methods and the seed: other ones are another grading."""
    folder = tmp_path / "submissions"
    (folder / "ann").mkdir(parents=True)
    (folder / "ann" / "ex01_process.py").write_text("x = (\n")
    out = tmp_path / "grades"
    assert batch(str(folder), "--out", str(out)).returncode == 0
    assert "1 graded now" in batch(str(folder), "--out", str(out), "--start-method", "spawn").stdout


def test_a_batch_resumes_and_grades_again_only_what_changed(tmp_path: Path) -> None:
    folder = tmp_path / "submissions"
    for student in ("ann", "ben"):
        (folder / student).mkdir(parents=True)
        shutil.copyfile(SOLUTION_1, folder / student / "ex01_process.py")
    out = tmp_path / "grades"
    assert batch(str(folder), "--out", str(out)).returncode == 0
    first = {s: record_path(out, s).stat().st_mtime_ns for s in ("ann", "ben")}
    again = batch(str(folder), "--out", str(out))
    assert again.returncode == 0 and "0 graded now, 2 kept from before" in again.stdout
    (folder / "ben" / "ex01_process.py").write_text("def run_all():\n    return 0\n")
    changed = batch(str(folder), "--out", str(out))
    assert "1 graded now, 1 kept from before" in changed.stdout
    assert record_path(out, "ann").stat().st_mtime_ns == first["ann"]
    assert rows(out)["ben"]["exercise-1"] == "0"
    forced = batch(str(folder), "--out", str(out), "--force")
    assert "2 graded now, 0 kept from before" in forced.stdout


def test_an_interrupted_batch_loses_nothing_and_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "submissions"
    for index in range(6):
        (folder / f"s{index}").mkdir(parents=True)
        (folder / f"s{index}" / "ex03_queue.py").write_text(HANGS)  # each takes its timeout
    out = tmp_path / "grades"
    process = subprocess.Popen([sys.executable, "-m", "grader", "batch", "--course", str(ROOT), "--start-method",
                                "fork", "--seed", "1", str(folder), "--out", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE,
                               text=True, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((out / "students").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode == 130, stdout
    kept = {path.name for path in (out / "students").glob("*.json")}
    assert 1 <= len(kept) < 6 and "run the same command again" in stdout
    assert len(rows(out)) == len(kept)  # the gradebook of what was graded
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".*-*"))  # no half-written file
    finished = batch(str(folder), "--out", str(out))
    assert f"{6 - len(kept)} graded now, {len(kept)} kept from before" in finished.stdout
    assert len(rows(out)) == 6


def test_ctrl_c_early_writes_no_half_graded_student(tmp_path: Path) -> None:
    """Ctrl-C while the sessions of full submissions run: no document at all for them,
    not one that says the grader failed (the interrupted run echoing as an error)."""
    folder = tmp_path / "submissions"
    for student in ("amy", "ben"):
        shutil.copytree(ROOT / "solutions", folder / student / "exercises")
    out = tmp_path / "grades"
    process = subprocess.Popen([sys.executable, "-m", "grader", "batch", "--course", str(ROOT), "-j", "2", str(folder),
                                "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list((out / ".logs").glob("worker-*.log")) and time.monotonic() < deadline:  # workers started
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    for path in (out / "students").glob("*.json"):
        record = read_record(path)
        assert record is not None and record.report is not None
        assert all(not exercise.problem for exercise in record.report.exercises), path.read_text()[:2000]


def test_a_stuck_grading_is_given_up_and_the_batch_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "submissions"
    for student, name, content in (("slow", "ex09_drain.py", SPINS), ("quick", "ex01_process.py", "x = (\n")):
        (folder / student).mkdir(parents=True)
        (folder / student / name).write_text(content)
    out = tmp_path / "grades"
    result = run_batch(BatchOptions(ROOT, folder, out, start_methods=("fork",), student_timeout_s=4.0))
    by_student = {record.student: record for record in result.records}
    assert by_student["slow"].status == NOT_GRADED and "did not finish grading" in by_student["slow"].reason
    assert by_student["quick"].status == GRADED


def test_shards_split_the_class_the_same_way_everywhere_and_merge(tmp_path: Path) -> None:
    names = [f"student-{index}" for index in range(40)]
    split = {name: shard_of(name, 3) for name in names}
    assert set(split.values()) == {1, 2, 3}
    assert split == {name: shard_of(name, 3) for name in reversed(names)}  # order and machine do not matter
    folder = tmp_path / "submissions"
    for name in names[:6]:
        (folder / name).mkdir(parents=True)
        (folder / name / "ex01_process.py").write_text("x = (\n")  # quick: a syntax error
    for index in (1, 2):
        assert batch(str(folder), "--out", str(tmp_path / f"shard{index}"), "--shard", f"{index}/2").returncode == 0
    shard1 = set(rows(tmp_path / "shard1"))
    shard2 = set(rows(tmp_path / "shard2"))
    assert shard1 | shard2 == set(names[:6]) and not shard1 & shard2
    info, records = load([tmp_path / "shard1", tmp_path / "shard2"])
    assert [record.student for record in records] == sorted(names[:6])
    merged = subprocess.run([sys.executable, "-m", "grader", "report", str(tmp_path / "shard1"),
                             str(tmp_path / "shard2"), "--csv", str(tmp_path / "all.csv")], capture_output=True,
                            text=True, timeout=120)
    assert merged.returncode == 0, merged.stderr
    assert "6 students: 6 graded, 0 not graded" in merged.stdout
    assert len((tmp_path / "all.csv").read_text(encoding="utf-8-sig").splitlines()) == 7


def test_a_bad_shard_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    for shard in ("0/2", "3/2", "a/b", "1"):
        assert batch(str(tmp_path / "s"), "--out", str(tmp_path / "g"), "--shard", shard).returncode == 2


# --- reading submissions safely ------------------------------------------------------------

def test_a_bare_repository_s_own_configuration_never_runs(tmp_path: Path) -> None:
    """A repository whose config names a smudge filter (a command) for every file: the
    file is read, the command never runs."""
    from grader.submissions import Entry, collect

    work = tmp_path / "work"
    work.mkdir()
    shutil.copyfile(SOLUTION_1, work / "ex01_process.py")
    (work / ".gitattributes").write_text("* filter=evil\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"]):
        subprocess.run([*git, *command], cwd=work, check=True)
    bare = tmp_path / "bare"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    witness = tmp_path / "pwned"
    with (bare / "config").open("a") as config:
        config.write(f'[filter "evil"]\n\tsmudge = sh -c "touch {witness}; cat"\n\tclean = cat\n')
    collected = collect(Entry("mallory", bare), ["ex01_process"])
    assert collected.files["ex01_process"] == SOLUTION_1.read_bytes()
    assert not witness.exists()


def test_a_corrupt_zip_is_a_row_not_a_crash(tmp_path: Path) -> None:
    from grader.submissions import Entry, collect

    path = make_zip(tmp_path / "broken.zip", {"ex01_process.py": SOLUTION_1.read_bytes() * 20})
    data = bytearray(path.read_bytes())
    start = data.index(b"ex01_process.py") + len("ex01_process.py") + 10
    data[start:start + 40] = b"\xff" * 40  # inside the deflated member
    path.write_bytes(bytes(data))
    unsupported = make_zip(tmp_path / "odd.zip", {"ex01_process.py": b"x = 1\n"})
    odd = bytearray(unsupported.read_bytes())
    central = odd.index(b"PK\x01\x02")
    odd[8:10] = odd[central + 10:central + 12] = (99).to_bytes(2, "little")  # method 99 (AES): not supported
    unsupported.write_bytes(bytes(odd))
    for zipped in (path, unsupported):
        collected = collect(Entry("x", zipped), ["ex01_process"])
        assert collected.problem.startswith("cannot be read") or "unzips to more" in collected.problem, collected


def test_a_report_needs_every_shard_unless_partial(tmp_path: Path) -> None:
    folder = tmp_path / "submissions"
    for name in ("a", "b", "c", "d"):
        (folder / name).mkdir(parents=True)
        (folder / name / "ex01_process.py").write_text("x = (\n")
    assert batch(str(folder), "--out", str(tmp_path / "one"), "--shard", "1/2").returncode == 0
    refused = subprocess.run([sys.executable, "-m", "grader", "report", str(tmp_path / "one")], capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 2 and "2/2 missing" in refused.stderr
    partial = subprocess.run([sys.executable, "-m", "grader", "report", str(tmp_path / "one"), "--partial"],
                             capture_output=True, text=True, timeout=120)
    assert partial.returncode == 0, partial.stderr
    assert partial.stdout.startswith("Shards missing (--partial): 2/2")


# --- one student, one entry, one document ----------------------------------------------------

def test_entries_that_name_one_student_are_refused_and_the_others_graded(tmp_path: Path) -> None:
    """Names equal once case and Unicode form are set aside (``alice/`` and ``alice.zip``,
    ``Dave/`` and ``dave.zip`` and a full-width ``ｄａｖｅ/``, ``José`` composed and
    decomposed) are one student: each such entry gets its row saying why it was not
    graded, the others are graded, and no two documents share a file on a disk that
    ignores case."""
    folder = tmp_path / "submissions"
    composed, decomposed = unicodedata.normalize("NFC", "José"), unicodedata.normalize("NFD", "José")
    quick = b"x = (\n"  # a syntax error: graded at once
    for name in ("alice", "Dave", "ｄａｖｅ", composed, "ann"):
        (folder / name).mkdir(parents=True)
        (folder / name / "ex01_process.py").write_bytes(quick)
    for name in ("alice", "dave", decomposed):
        make_zip(folder / f"{name}.zip", {"ex01_process.py": quick})
    out = tmp_path / "grades"
    done = batch(str(folder), "--out", str(out))
    assert done.returncode == 1, done.stderr
    graded = rows(out)
    refused = {"alice", "Dave", "dave", "ｄａｖｅ", composed, decomposed}
    assert set(graded) == refused | {"ann"} and graded["ann"]["status"] == GRADED
    for student in refused:
        assert graded[student]["status"] == NOT_GRADED and "one student" in graded[student]["reason"], graded[student]
    assert "alice.zip" in graded["alice"]["reason"]
    assert all(name in graded["dave"]["reason"] for name in ("Dave", "dave.zip", "ｄａｖｅ"))
    assert f"{decomposed}.zip" in graded[composed]["reason"]
    documents = list((out / "students").glob("*.json"))
    assert len({path.name.casefold() for path in documents}) == len(documents) == 7
    report = subprocess.run([sys.executable, "-m", "grader", "report", str(out)], capture_output=True, text=True,
                            timeout=120)
    assert "7 students: 1 graded, 6 not graded" in report.stdout, report.stderr


def test_a_document_of_an_older_grader_under_another_name_is_replaced(tmp_path: Path) -> None:
    """A grades folder written when ``Ann`` went to ``students/Ann.json``: grading it
    again leaves one document for Ann, which ``grade report`` reads."""
    from grader.gradebook import StudentRecord, save_record

    folder = tmp_path / "submissions"
    (folder / "Ann").mkdir(parents=True)
    (folder / "Ann" / "ex01_process.py").write_text("x = (\n")
    out = tmp_path / "grades"
    assert batch(str(folder), "--out", str(out)).returncode == 0
    older = out / "students" / "Ann.json"
    save_record(out, StudentRecord("Ann", "Ann", "d", "an older course", NOT_GRADED, "older"))
    record_path(out, "Ann").rename(older)
    assert batch(str(folder), "--out", str(out)).returncode == 0
    assert [path.name for path in (out / "students").glob("*.json")] == [record_path(out, "Ann").name]
    report = subprocess.run([sys.executable, "-m", "grader", "report", str(out)], capture_output=True, text=True,
                            timeout=120)
    assert report.returncode == 0 and "1 students: 1 graded" in report.stdout, report.stderr


# --- what an entry may hold ------------------------------------------------------------------

def pushed_repository(source: Path, bare: Path, files: dict[str, bytes]) -> Path:
    """``bare``: a bare repository that a repository made in ``source``, with ``files``
    committed, was pushed to (as a class's server holds them: loose refs and objects)."""
    for name, content in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(content)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "done"]):
        subprocess.run([*git, *command], cwd=source, check=True)
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    subprocess.run(["git", "push", "-q", str(bare), "HEAD:refs/heads/main"], cwd=source, check=True)
    subprocess.run(["git", "--git-dir", str(bare), "symbolic-ref", "HEAD", "refs/heads/main"], check=True)
    return bare


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_no_link_inside_an_entry_is_followed(tmp_path: Path) -> None:
    """Copied work through symbolic links scores none of the victim's marks: a bare
    repository whose refs/ and objects/ (or the folders inside objects/) are links to
    another student's, a linked exercise file, a linked .git, a linked exercises/ folder
    and an entry that is a link, each pointing into another student's work or outside
    the class folder."""
    from grader.submissions import Entry, collect

    folder = tmp_path / "submissions"
    folder.mkdir()
    solution = SOLUTION_1.read_bytes()
    victim = pushed_repository(tmp_path / "victim-src", folder / "victim", {"exercises/ex01_process.py": solution})
    outside = tmp_path / "elsewhere"
    (outside / "exercises").mkdir(parents=True)
    (outside / "exercises" / "ex01_process.py").write_bytes(solution)
    thief = folder / "thief"
    thief.mkdir()
    shutil.copyfile(victim / "HEAD", thief / "HEAD")
    (thief / "refs").symlink_to(victim / "refs")
    (thief / "objects").symlink_to(Path("..") / "victim" / "objects")
    inner = folder / "inner"
    shutil.copytree(victim, inner, symlinks=True, ignore=shutil.ignore_patterns("objects"))
    (inner / "objects").mkdir()
    for part in (victim / "objects").iterdir():
        (inner / "objects" / part.name).symlink_to(part)
    (folder / "linked-file" / "exercises").mkdir(parents=True)
    (folder / "linked-file" / "exercises" / "ex01_process.py").symlink_to(outside / "exercises" / "ex01_process.py")
    (folder / "linked-git").mkdir()
    (folder / "linked-git" / ".git").symlink_to(victim)
    (folder / "linked-folder").mkdir()
    (folder / "linked-folder" / "exercises").symlink_to(outside / "exercises")
    (folder / "linked-entry").symlink_to(outside)
    assert collect(Entry("victim", victim), ["ex01_process"]).files == {"ex01_process": solution}
    for name in ("thief", "inner", "linked-file", "linked-git", "linked-folder", "linked-entry"):
        collected = collect(Entry(name, folder / name), ["ex01_process"])
        assert not collected.files and collected.problem, (name, collected)
    for name in ("thief", "inner"):
        assert "symbolic link" in collect(Entry(name, folder / name), ["ex01_process"]).problem


def crowded_zip(path: Path, members: int, claimed: int | None = None, zip64: bool = False) -> Path:
    """A zip whose central directory lists ``members`` empty files named ``a`` (no data:
    cheap to write, as costly to parse as any) and whose end record says it holds
    ``claimed`` (default: ``members``), in a ZIP64 end record when ``zip64``."""
    entry = struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    directory = entry * members
    count = members if claimed is None else claimed
    with path.open("wb") as file:
        file.write(directory)
        if zip64:
            file.write(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(directory), 0))
            file.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, len(directory), 1))
            file.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
        else:
            file.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), 0, 0))
    return path


def test_a_zip_listing_too_many_members_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    """A zip of a million members (its end record says so, in ZIP64), ones that say they
    hold 3 but list a million (47 MB of list) or 300,000 (14 MB), and one that says it
    holds three million: each refused at once, saying why, without the seconds and the
    memory a parse costs."""
    from grader.submissions import Entry, collect

    for members, claimed, zip64, said in ((1_000_000, None, True, "a zip of 1,000,000 members"),
                                          (1_000_000, 3, False, "a zip whose list of members takes 47,000,000 bytes"),
                                          (300_000, 3, False, "a zip of more than 10,000 members"),
                                          (1, 3_000_000, True, "a zip of 3,000,000 members")):
        path = crowded_zip(tmp_path / f"{members}-{claimed}.zip", members, claimed, zip64)
        started = time.monotonic()
        collected = collect(Entry("x", path), ["ex01_process"])
        assert time.monotonic() - started < 2.0, collected.problem
        assert said in collected.problem and "not graded" in collected.problem, collected.problem


def test_a_file_named_almost_right_is_named_with_what_to_rename_it_to(tmp_path: Path) -> None:
    """``Ex02_Main_Guard.py``, ``ex03_queue (1).py``, ``ex04_speedup.py.txt``,
    ``ex05-pool-map.py``, one in a subfolder: in a folder or a zip, each exercise without
    its file says which file was meant and what to rename it to; an entry with nothing but
    such files says it too."""
    from grader.submissions import Entry, collect

    near = {"ex02_main_guard": "Ex02_Main_Guard.py", "ex03_queue": "ex03_queue (1).py",
            "ex04_speedup": "ex04_speedup.py.txt", "ex05_pool_map": "ex05-pool-map.py",
            "ex06_apply_async": "work/deep/Ex06_Apply_Async.py"}
    members = {"ex01_process.py": b"x = (\n", **{name: b"x = 1\n" for name in near.values()}}
    folder = tmp_path / "submissions"
    for path, content in members.items():
        (folder / "ann" / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / "ann" / path).write_bytes(content)
    make_zip(folder / "bob.zip", members)
    (folder / "carl").mkdir()
    (folder / "carl" / "Ex01_Process.py").write_text("x = 1\n")
    modules = [f"ex{index:02d}_{name}" for index, name in ((1, "process"), (2, "main_guard"), (3, "queue"),
                                                           (4, "speedup"), (5, "pool_map"), (6, "apply_async"))]
    for student in ("ann", "bob.zip"):
        assert collect(Entry(student, folder / student), modules).near_misses == near
    out = tmp_path / "grades"
    assert batch(str(folder), "--out", str(out)).returncode == 1
    carl = rows(out)["carl"]
    assert carl["status"] == NOT_GRADED and "Ex01_Process.py" in carl["reason"] and "ex01_process.py" in carl["reason"]
    for student in ("ann", "bob"):
        record = read_record(record_path(out, student))
        assert record is not None and record.report is not None
        problems = {exercise.file: exercise.problem for exercise in record.report.exercises}
        for module, found in near.items():
            problem = problems[f"exercises/{module}.py"]
            assert f"{found}" in problem and f"rename it to {module}.py" in problem, problem
        assert "rename" not in problems["exercises/ex07_shared_memory.py"]


def test_the_rename_is_told_in_chinese_too() -> None:
    from grader.results import ExerciseResult, Report
    from grader.submissions import name_near_misses

    exercise = ExerciseResult("exercise-3", "queue", "Queue", 1, problem="找不到文件", file="exercises/ex03_queue.py")
    name_near_misses(Report([exercise]), {"ex03_queue": "ex03-queue.py"}, "zh")
    assert "ex03-queue.py" in exercise.problem and "重命名为 ex03_queue.py" in exercise.problem


# --- what the teacher's terminal shows -------------------------------------------------------

CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")  # but line feeds


def test_names_are_printed_without_their_control_characters(tmp_path: Path) -> None:
    """A folder named ``\\x1b[2Jevil`` (clear the screen) or holding a carriage return
    and a bell: ``grade batch`` and ``grade report`` name it, with those characters
    replaced; one whose name is not UTF-8 is named with U+FFFD."""
    folder = tmp_path / "submissions"
    (folder / "\x1b[2Jevil").mkdir(parents=True)  # nothing in it: not graded
    (folder / "ring\x07\rback").mkdir()
    (folder / "ring\x07\rback" / "ex01_process.py").write_text("x = (\n")
    os.mkdir(os.fsencode(folder) + b"/latin-\xe9")
    out = tmp_path / "grades"
    done = batch(str(folder), "--out", str(out), text=False)
    assert done.returncode == 1, done.stderr
    report = subprocess.run([sys.executable, "-m", "grader", "report", str(out)], capture_output=True, timeout=120)
    for shown in (done.stdout, done.stderr, report.stdout):
        assert not CONTROL.search(shown), shown
    assert "evil" in done.stdout.decode() and "back" in report.stdout.decode()
    assert rows(out)["latin-\ufffd"]["status"] == NOT_GRADED and "latin-\ufffd" in report.stdout.decode()


# --- what a check shows of a call's output ---------------------------------------------------

def test_an_output_flood_shows_the_end_its_note_speaks_of(tmp_path: Path) -> None:
    """One line longer than what is read of the output's end, whole or followed by blank
    lines, after other lines or not: the note says only the end is shown, and the end
    is there."""
    from grader.excerpt import TailExcerpt
    from grader.sandbox.untrusted import SessionFolder

    for output in (b"x" * 10**6, b"start\n" + b"x" * 10**6 + b"\n\n\n", b"y\n" * 10**5 + b"x" * 10**6 + b"\n"):
        (tmp_path / "output").write_bytes(output)
        files = SessionFolder(tmp_path)
        try:
            shown = TailExcerpt("en")(files, "output", 0, None)
        finally:
            files.close()
        note, _, end = shown.partition("\n")
        assert "only the end is shown" in note and end.rstrip("\n").endswith("x" * 100), shown[-300:]


def test_a_submission_printing_a_flood_shows_its_end(tmp_path: Path) -> None:
    """``print('x' * 10**8)`` (past the 4 MiB output limit): the output under the check is
    the end of what was kept, after its note."""
    flood = tmp_path / "ex01_process.py"
    flood.write_text("print('x' * 10**8)\n")
    done = subprocess.run([sys.executable, "-m", "grader", "1", "--course", str(ROOT), "--submission", str(flood),
                           "--start-method", "fork", "--format", "json"], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    outputs = [check["output"] for check in json.loads(done.stdout)["exercises"][0]["checks"] if check["output"]]
    assert outputs
    for output in outputs:
        note, _, end = output.partition("\n")
        assert "only the end is shown" in note and end.rstrip("\n").endswith("x" * 100), output[-300:]
