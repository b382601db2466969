"""``docs/writing-an-exercise.md`` is run, so that it cannot rot.

The guide builds exercise-11 (``semaphore``), which is not part of the course: its files
are the guide's code blocks. This test copies the course to a temporary folder, adds
them there (appending the manifest entry and the messages), and proves what the guide
says: the solution passes every check under every start method; the starter and every
submission the guide shows (wrong attempts, and a right one) get the verdict they declare
and exactly the feedback the guide quotes (seed 7, every start method); the Python blocks
that query a session run as one script in the copy; the doctests pass; the excerpts are
word for word in their files; ``grade new`` scaffolds the guide's exercise; the shell
commands exist with the options the guide gives them (those marked ``shell: run`` are
run). Every code block of the guide must carry one of these marks (see its last section).

The gradings run a few at a time (most of their time is spent waiting at the guide's
rendezvous, not computing): about 20-30 s on two cores."""

from __future__ import annotations

import ast
import doctest
import glob
import importlib.util
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, TEST_LANGUAGE
from test_student import make_course

GUIDE = ROOT / "docs" / "writing-an-exercise.md"
MODULE = "ex11_semaphore"
SEED = "7"  # the seed of the feedback the guide quotes
METHODS = ("fork", "spawn", "forkserver")
APPENDED = ("exercises.yaml", "grader/i18n/en.yaml", "grader/i18n/zh.yaml", "docs/exercises.md")  # the others: new
KINDS = ("file", "attempt", "feedback", "session", "doctest", "excerpt", "shell", "starter-reason")
# Files of the project the guide's blocks use, besides the course (make_course copies that).
PROJECT_FILES = ("tests/conftest.py", "tests/test_examples.py", "tests/update_goldens.py", "bench/flakiness.py",
                 "tests/examples/ex03_queue/wrong_arrival_order/ex03_queue.py")
TIMEOUT_S = 240.0
JOBS = 4  # gradings at once: most of their time is spent waiting

FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
MARK = re.compile(r"^<!--\s*([\w-]+)(?::\s*(.*?))?\s*-->$")
CHECK_LINE = re.compile(r"^\s*([✓✗⧗!]) (test_\w+) \[([\w, ]+)\]$")
MARK_STATUS = {"✓": "passed", "✗": "failed", "⧗": "timeout", "!": "error"}


@dataclass(frozen=True)
class Block:
    kind: str | None  # the mark before the block: <!-- kind: arg -->
    arg: str
    info: str  # the fence's info string
    body: str
    line: int

    def __str__(self) -> str:
        return f"the {self.info or 'plain'} block at line {self.line} of {GUIDE.name}"


def read_blocks() -> list[Block]:
    text = GUIDE.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rpartition("\n")[2].strip()
        mark = MARK.match(before)
        blocks.append(Block(mark.group(1) if mark else None, (mark.group(2) or "").strip() if mark else "",
                            match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1))
    return blocks


BLOCKS = read_blocks()


def of_kind(kind: str) -> list[Block]:
    return [block for block in BLOCKS if block.kind == kind]


def files() -> dict[str, str]:
    """The exercise's files as the guide gives them: path -> text."""
    return {block.arg: block.body for block in of_kind("file")}


def attempt_path(name: str) -> str:
    return f"tests/examples/{MODULE}/{name}/{MODULE}.py"


# --- the copy of the course, and what is run in it --------------------------------------

def build_course(folder: Path) -> Path:
    """A copy of the course with exercise-11 added from the guide's blocks."""
    make_course(folder, git=False)
    for name in PROJECT_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, folder / name)
    for path, body in files().items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if path in APPENDED:
            with open(target, "a", encoding="utf-8") as file:
                file.write("\n" + body)
        else:
            target.write_text(body, encoding="utf-8")
    for block in of_kind("attempt"):
        target = folder / attempt_path(block.arg)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.body, encoding="utf-8")
    return folder


def command(words: list[str]) -> list[str]:
    """A command of the guide as this test runs it: `grade` and `pytest` through this Python."""
    if words[0] == "grade":
        return [sys.executable, "-m", "grader", *words[1:]]
    if words[0] == "pytest":  # one process: this test's own run already uses the cores
        return [sys.executable, "-m", "pytest", "-q", "-n", "0", *words[1:]]
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    raise AssertionError(f"no way to run {words[0]!r}")


def run_in(course: Path, words: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command(words), cwd=course, capture_output=True, text=True, input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL, timeout=TIMEOUT_S,
                          env={**os.environ, **TEST_LANGUAGE})


def graded(course: Path, *args: str) -> dict:
    """``grade 11 ARGS --format json --seed 7`` in the copy: the report of exercise-11."""
    completed = run_in(course, ["grade", "11", *args, "--format", "json", "--seed", SEED])
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    (exercise,) = json.loads(completed.stdout)["exercises"]
    return exercise


def timeout_is_measured(course: Path) -> bool:
    """Whether exercise-11's timeout is ``auto`` (measured from its solution the first time
    it is graded) rather than a number of the manifest."""
    manifest = yaml.safe_load((course / "exercises.yaml").read_text(encoding="utf-8"))
    (entry,) = [entry for entry in manifest["exercises"] if entry["module"] == MODULE]
    return entry.get("timeout", (manifest.get("defaults") or {}).get("timeout", "auto")) == "auto"


def shell_lines(block: Block) -> list[list[str]]:
    """The commands of a shell block, as words (comments left out)."""
    return [words for line in block.body.splitlines() if (words := shlex.split(line, comments=True))]


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_course(tmp_path_factory.mktemp("guide") / "course")


def scaffold(folder: Path) -> tuple[Path, list[tuple[list[str], subprocess.CompletedProcess]]]:
    """The ``shell: scaffold`` block (``grade new``), run in a fresh copy of the course."""
    make_course(folder, git=False)
    return folder, [(words, run_in(folder, words)) for block in of_kind("shell") if block.arg == "scaffold"
                    for words in shell_lines(block)]


@pytest.fixture(scope="module")
def results(course: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future]]:
    """Everything the guide runs, started at once (a few at a time): name -> future."""
    pool = ThreadPoolExecutor(max_workers=JOBS)
    futures: dict[str, Future] = {}
    futures["solution"] = pool.submit(graded, course, "--solution")
    futures["scaffold"] = pool.submit(scaffold, tmp_path_factory.mktemp("scaffold") / "course")  # another copy
    if timeout_is_measured(course):  # from the solution, the first time: the others then find it done
        futures["solution"].result()
    script = "\n\n".join(block.body for block in of_kind("session"))

    def run_blocks() -> list[tuple[list[str], subprocess.CompletedProcess]]:
        return [(words, run_in(course, words)) for block in of_kind("shell") if block.arg == "run"
                for words in shell_lines(block)]

    futures["shell: run"] = pool.submit(run_blocks)  # the longest first: two gradings
    for block in of_kind("attempt"):
        futures[block.arg] = pool.submit(graded, course, "--submission", attempt_path(block.arg))
    futures["session"] = pool.submit(run_in, course, ["python", "-"], script)  # cwd first on sys.path: the copy's grader
    futures["starter"] = pool.submit(graded, course)
    yield futures
    pool.shutdown(wait=True)


# --- the tests --------------------------------------------------------------------------

def test_every_block_is_run() -> None:
    unmarked = [str(block) for block in BLOCKS if block.kind not in KINDS]
    assert not unmarked, f"blocks without a mark this test knows ({', '.join(KINDS)}): {unmarked}"
    paths = files()
    assert {f"exercises/{MODULE}.py", f"solutions/{MODULE}.py", f"grader/checks/check_{MODULE}.py",
            *APPENDED} <= set(paths), sorted(paths)
    quoted = {block.arg for block in of_kind("feedback")}
    assert quoted == {"starter"} | {block.arg for block in of_kind("attempt")}, quoted
    assert all(declared(block.arg) in ("passed", "failed") for block in of_kind("attempt"))


def declared(name: str) -> str:
    """The verdict a submission of the guide declares (``# expect: failed — why``); the
    starter's is failed."""
    if name == "starter":
        return "failed"
    (block,) = [block for block in of_kind("attempt") if block.arg == name]
    found = re.match(r"# expect: (\w+)", block.body)
    assert found, f"{block} does not start with '# expect: <verdict>'"
    return found.group(1)


def test_new_exercise_is_not_shipped() -> None:
    """Exercise-11 lives in the guide only: the course keeps its ten exercises."""
    assert not (ROOT / "solutions" / f"{MODULE}.py").exists()
    assert MODULE not in (ROOT / "exercises.yaml").read_text(encoding="utf-8")


def test_excerpts_are_word_for_word() -> None:
    for block in of_kind("excerpt"):
        source = files().get(block.arg)
        if source is None:
            source = (ROOT / block.arg).read_text(encoding="utf-8")
        assert block.body in source, f"{block} is not in {block.arg} as it is now"


def test_doctests() -> None:
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner()
    for block in of_kind("doctest"):
        out = io.StringIO()
        runner.run(parser.get_doctest(block.body, {}, str(block), str(GUIDE), block.line), out=out.write)
        assert not runner.failures, f"{block}:\n{out.getvalue()}"


def test_solution_passes_under_every_start_method(results: dict[str, Future]) -> None:
    exercise = results["solution"].result()
    assert exercise["status"] == "passed", [(c["name"], c["start_method"], c["message"]) for c in exercise["checks"]]
    assert {check["start_method"] for check in exercise["checks"]} == set(METHODS)


@pytest.mark.parametrize("name", [block.arg for block in of_kind("feedback")])
def test_feedback_is_what_the_guide_quotes(results: dict[str, Future], name: str) -> None:
    exercise = results[name].result()
    (block,) = [block for block in of_kind("feedback") if block.arg == name]
    quoted, hint = parse_feedback(block.body)
    got = {(check["name"], check["start_method"]): (check["status"], check["message"])
           for check in exercise["checks"]}
    assert exercise["status"] == declared(name)
    assert got == quoted, f"{name}: the grader now says\n{json.dumps(exercise['checks'], indent=1)[:6000]}"
    assert exercise["hint"] == hint


def parse_feedback(body: str) -> tuple[dict[tuple[str, str], tuple[str, str]], str]:
    """A quoted report: (check, start method) -> (status, message), and the hint."""
    checks: dict[tuple[str, str], tuple[str, str]] = {}
    hint, current, message = "", None, []

    def close() -> None:
        if current is not None:
            status, name, methods = current
            for method in methods:
                checks[name, method] = (status, "\n".join(message))

    for line in body.splitlines():
        found = CHECK_LINE.match(line)
        if found:
            close()
            current, message = (MARK_STATUS[found.group(1)], found.group(2), found.group(3).split(", ")), []
        elif line.strip().startswith("Hint: "):
            close()
            current, hint = None, line.strip().removeprefix("Hint: ")
        else:
            assert current is not None and line.startswith(" " * 6), f"unexpected line in a quoted report: {line!r}"
            message.append(line[6:])
    close()
    return checks, hint


def test_starter_reason(results: dict[str, Future]) -> None:
    (block,) = of_kind("starter-reason")
    ((exercise_id, (check_name, fragment)),) = ast.literal_eval("{" + block.body + "}").items()
    assert exercise_id == "exercise-11"
    starter = results["starter"].result()
    failed = [check for check in starter["checks"] if check["name"] == check_name]
    assert {check["start_method"] for check in failed} == set(METHODS)
    assert all(check["status"] == "failed" and fragment in check["message"] for check in failed)


def test_session_blocks_run(results: dict[str, Future]) -> None:
    completed = results["session"].result()
    assert completed.returncode == 0, completed.stderr[-4000:]


def test_shell_blocks_that_run_succeed(results: dict[str, Future]) -> None:
    ran = results["shell: run"].result()
    assert ran, "no shell block is run"
    for words, completed in ran:
        assert completed.returncode == 0, f"{' '.join(words)}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        if words[:2] == ["grade", "show"]:  # the instructions (the starter's) and the contract (docs/exercises.md)
            assert "fetch_all(delays, limit) -> list[int]" in completed.stdout, completed.stdout
            assert "test_limit_used" in completed.stdout, completed.stdout


def test_grade_new_scaffolds_the_guide_s_exercise(results: dict[str, Future]) -> None:
    """``grade new`` as the guide gives it makes exercise-11 at the paths, and with the
    manifest fields, of the guide's files."""
    folder, ran = results["scaffold"].result()
    assert ran, "no shell: scaffold block"
    for words, completed in ran:
        assert completed.returncode == 0, f"{' '.join(words)}:\n{completed.stdout}\n{completed.stderr}"
    for path in files():
        if path not in APPENDED:
            assert (folder / path).is_file(), f"grade new did not write {path}"
    (guide_entry,) = yaml.safe_load(files()["exercises.yaml"])
    scaffolded = yaml.safe_load((folder / "exercises.yaml").read_text(encoding="utf-8"))["exercises"][-1]
    for field in ("id", "slug", "title", "module", "topic", "checks"):
        assert scaffolded[field] == guide_entry[field], field


def test_shell_commands_exist_with_their_options(course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each command of a ``shell`` block is parsed by the command's own parser (``grade``'s,
    ``bench/flakiness.py``'s), its exercises and files exist in the copy; a teacher or
    student command (``grade new``...) must list every option given in its --help."""
    from grader.cli import build_parser
    from grader.manifest import COMMANDS

    manifest = yaml.safe_load((course / "exercises.yaml").read_text(encoding="utf-8"))
    names = {str(value) for ex in manifest["exercises"]
             for value in (ex["id"], ex["id"].split("-")[1], ex["slug"], ex["module"])}
    monkeypatch.chdir(course)
    checked = 0
    for block in (block for block in of_kind("shell") if not block.arg):  # the others are run
        for words in shell_lines(block):
            words = [match for word in words for match in (sorted(glob.glob(word)) if "*" in word else [word])]
            if words[0] == "grade" and len(words) > 1 and words[1] in COMMANDS:
                helped = run_in(course, [*words[:2], "--help"])
                assert helped.returncode == 0, helped.stderr
                for option in (word.split("=")[0] for word in words[2:] if word.startswith("--")):
                    assert option in helped.stdout, f"{' '.join(words)}: grade {words[1]} has no {option}"
            elif words[0] == "grade":
                try:
                    args = build_parser().parse_args(words[1:])
                except SystemExit:
                    pytest.fail(f"{block}: grade cannot parse {' '.join(words)}")
                assert all(name in names for name in args.exercises), words
                assert args.submission is None or args.submission.exists(), words
            elif words[:2] == ["python", "-m"]:
                helped = run_in(course, [*words[:3], "--help"])
                assert helped.returncode == 0, helped.stderr
                for option in (word.split("=")[0] for word in words[3:] if word.startswith("--")):
                    assert option in helped.stdout, f"{' '.join(words)}: no {option}"
            elif words[:2] == ["python", "bench/flakiness.py"]:
                spec = importlib.util.spec_from_file_location("flakiness", course / words[1])
                flakiness = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(flakiness)
                targets = []
                monkeypatch.setattr(flakiness, "measure", lambda target, method, runs: targets.append(target) or {})
                monkeypatch.setattr(sys, "argv", words[1:])
                assert flakiness.main() == 0, words
                assert targets, f"{' '.join(words)}: nothing to measure"
                assert all(Path(target[1]).is_file() if target[0] == "--submission" else target[0] in names
                           for target in targets), targets
            else:
                pytest.fail(f"{block}: a command this test does not know: {' '.join(words)}")
            checked += 1
    assert checked
