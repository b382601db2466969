"""``grade batch``: a class of submissions (folders, a git repository, zips, and
malformed ones), graded in isolation, resumably, in shards; and ``grade report`` on it."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from grader.batch import BatchOptions, run_batch, shard_of
from grader.gradebook import GRADED, NOT_GRADED, load, read_record, record_path

SOLUTION_1 = ROOT / "solutions" / "ex01_process.py"
HANGS = "def collect(ns):\n    while True:\n        pass\n"
SPINS = "def gather(sizes):\n    while True:\n        pass\n"  # exercise-9: its timeout is the longest


def batch(*args: str, timeout: float = 600.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "batch", "--course", str(ROOT), "--start-method", "fork",
                           "--seed", "1", *args], capture_output=True, text=True, timeout=timeout,
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
    time.sleep(1.5)
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


def test_two_entries_for_one_student_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "submissions"
    (folder / "alice").mkdir(parents=True)
    make_zip(folder / "alice.zip", {"ex01_process.py": b"x = 1\n"})
    done = batch(str(folder), "--out", str(tmp_path / "grades"))
    assert done.returncode == 2 and "alice" in done.stderr and "keep one" in done.stderr


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
