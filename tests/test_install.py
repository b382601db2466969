"""The grader as its users install it, grading as they grade.

- a wheel built from the tree, installed in a fresh virtual environment (dependencies from
  the package registry, as on a new machine), grading the course, a second copy of it and
  a student's ``grade export``;
- this project's editable install grading another copy of the course (its checks are
  the copy's, loaded under names of their own);
- the class recipes of ``docs/scale-out/``: the GitHub Actions matrix's ``run`` steps run
  by bash, as a runner would, and the Kubernetes Indexed Job validated against the
  Kubernetes schema, its pods' command run with ``JOB_COMPLETION_INDEX``.

The environments are made once per test run, shared by the xdist workers.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, TEST_LANGUAGE
from grader.starters import materialise_starters
from test_workflow import actionlint

SCALE_OUT = ROOT / "docs" / "scale-out"
INSTALL_TIMEOUT_S = 600


# --- making trees and environments ------------------------------------------------------

def fresh_clone(dest: Path) -> Path:
    """What a fresh clone of this tree holds (the working tree's tracked and new files, the
    starters as shipped), committed in a repository of its own."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not name.startswith("exercises/"):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    materialise_starters(ROOT, dest / "exercises")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=dest, check=True)
    subprocess.run([*git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "the course"], cwd=dest, check=True)
    return dest


def new_venv(folder: Path) -> Path:
    """A virtual environment of its own (no package of this one's): its ``bin`` folder."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=INSTALL_TIMEOUT_S)
    return folder / "bin"


def pip(bin_dir: Path, *args: str, cwd: Path | None = None) -> None:
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "--disable-pip-version-check", "-q", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@contextmanager
def made_once(folder: Path) -> Iterator[bool]:
    """Hold ``folder``'s lock; yields True if it still has to be made (then it is marked
    made when the block ends without an error)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made = folder / ".made"
        yield not made.exists()
        made.parent.mkdir(parents=True, exist_ok=True)
        made.touch()


def shared_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder every xdist worker of this run sees under the same name."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent / f"shared-{os.environ['PYTEST_XDIST_TESTRUNUID']}"
    return base / name


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = shared_folder(tmp_path_factory, "wheel")
    with made_once(folder) as to_make:
        if to_make:
            source = fresh_clone(folder / "source")
            builder = new_venv(folder / "builder")
            pip(builder, "wheel", "--no-deps", "-w", str(folder / "dist"), str(source))
    (built,) = (folder / "dist").glob("grade-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh virtual environment with the wheel installed, with the
    charts of ``grade report --html`` (the ``report`` extra)."""
    folder = shared_folder(tmp_path_factory, "wheel-venv")
    with made_once(folder) as to_make:
        if to_make:
            pip(new_venv(folder / "venv"), "install", f"{wheel}[report]")
    return folder / "venv" / "bin"


def grade_in(bin_dir: Path, *args: str, cwd: Path, env: dict[str, str] | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess:
    """``grade ARGS`` of the environment ``bin_dir``, run in ``cwd`` as a user would."""
    return subprocess.run([str(bin_dir / "grade"), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL,
                          env={**os.environ, **TEST_LANGUAGE, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                               **(env or {})})


def statuses(completed: subprocess.CompletedProcess) -> dict[str, str]:
    assert completed.returncode in (0, 1), completed.stdout[-3000:] + completed.stderr[-3000:]
    return {exercise["id"]: exercise["status"] for exercise in json.loads(completed.stdout)["exercises"]}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fresh_clone(tmp_path_factory.mktemp("course"))


# --- the wheel ----------------------------------------------------------------------------

def test_the_wheel_holds_the_grader_and_no_course(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("grader/grading.ini", "grader/i18n/en.yaml", "grader/i18n/zh.yaml",
                   "grader/sandbox/boot/_grade_supervisor.py", "grader/templates/check.py.tmpl"):
        assert needed in names
    assert not [name for name in names if name.startswith(("grader/checks/", "exercises/", "solutions/"))]


def test_an_installed_wheel_grades_the_course_and_its_copies(installed: Path, course: Path, tmp_path: Path) -> None:
    located = subprocess.run([str(installed / "python"), "-c", "import grader; print(grader.__file__)"],
                             cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert Path(located).is_relative_to(installed.parent), located  # the wheel's grader, not this tree's
    # In the course folder: a solution passes, a starter fails on its values (not "not graded").
    assert statuses(grade_in(installed, "1", "3", "--solution", "--format", "json", cwd=course)) == \
        {"exercise-1": "passed", "exercise-3": "passed"}
    assert statuses(grade_in(installed, "3", "--format", "json", cwd=course)) == {"exercise-3": "failed"}
    # A second copy, from elsewhere; then from inside it.
    second = shutil.copytree(course, tmp_path / "second")
    assert statuses(grade_in(installed, "--course", str(second), "5", "--solution", "--format", "json",
                             cwd=tmp_path)) == {"exercise-5": "passed"}
    assert statuses(grade_in(installed, "8", "--format", "json", cwd=second)) == {"exercise-8": "failed"}
    # A student's export: graded with its own (visible) checks.
    exported = grade_in(installed, "export", str(tmp_path / "export"), cwd=course)
    assert exported.returncode == 0, exported.stderr
    shutil.copy(course / "solutions" / "ex03_queue.py", tmp_path / "export" / "exercises" / "ex03_queue.py")
    assert statuses(grade_in(installed, "3", "4", "--format", "json", cwd=tmp_path / "export")) == \
        {"exercise-3": "passed", "exercise-4": "failed"}


def test_an_editable_install_grades_another_copy(course: Path, tmp_path: Path) -> None:
    """This project's own install (editable, from this tree) on another copy of the course:
    the copy's checks, not this tree's, even with the same names."""
    mine = Path(sys.executable).parent
    copy = shutil.copytree(course, tmp_path / "copy")
    assert statuses(grade_in(mine, "1", "--solution", "--format", "json", cwd=copy)) == {"exercise-1": "passed"}
    # The copy's checks of exercise-1 shrink to one that reads the first call's value: the
    # starter (it returns None) passes the copy's checks, and fails the course's.
    (copy / "grader" / "checks" / "check_ex01_process.py").write_text(
        "from grader.check import Call, Plan, Ref, Run\n\n"
        "def plan(rng):\n"
        "    return Plan([Call('only', 'run_in_process', (Ref('grade_probe.record'), ['t1', 0.0]))])\n\n"
        "def test_the_copy_is_read(run: Run) -> None:\n"
        "    run.returned('only')\n", encoding="utf-8")
    assert statuses(grade_in(mine, "1", "--format", "json", cwd=copy)) == {"exercise-1": "passed"}
    assert statuses(grade_in(mine, "--course", str(course), "1", "--format", "json", cwd=copy)) == \
        {"exercise-1": "failed"}
    stressed = grade_in(mine, "3", "--solution", "--stress", "2", cwd=copy)
    assert stressed.returncode == 0, stressed.stdout[-3000:] + stressed.stderr[-3000:]


# --- docs/scale-out/grade-class.yml: a GitHub Actions matrix --------------------------------

def a_class(folder: Path, course: Path) -> dict[str, str]:
    """Submissions of exercise-1 only (quick to grade): the status each student's exercise-1 gets."""
    for student in ("ada", "bo"):
        (folder / student / "exercises").mkdir(parents=True)
        shutil.copy(course / "solutions" / "ex01_process.py", folder / student / "exercises")
    (folder / "cy" / "exercises").mkdir(parents=True)
    shutil.copy(course / "exercises" / "ex01_process.py", folder / "cy" / "exercises")
    with zipfile.ZipFile(folder / "di.zip", "w") as archive:
        archive.write(course / "solutions" / "ex01_process.py", "ex01_process.py")
    return {"ada": "passed", "bo": "passed", "cy": "failed", "di": "passed"}


def run_step(script: str, cwd: Path, env: dict[str, str], shell: tuple[str, ...] = ("bash", "-e", "-c")) -> None:
    """A step's ``run`` script, as the runner runs it: ``shell`` ends with the option that
    takes the script (GitHub's default runs ``bash -e``; ``shell: bash`` adds pipefail)."""
    done = subprocess.run([*shell, script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S)
    assert done.returncode == 0, f"{script}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def with_matrix(script: str, **values: object) -> str:
    for name, value in values.items():
        script = script.replace("${{ matrix.%s }}" % name, str(value))
    assert "${{" not in script, script
    return script


def test_the_class_matrix_workflow_passes_actionlint() -> None:
    assert actionlint(SCALE_OUT / "grade-class.yml") == []


def test_the_class_matrix_workflow_runs_step_by_step(course: Path, tmp_path: Path) -> None:
    """Every ``run`` step of both jobs, by bash, on a fresh runner each (a fresh virtual
    environment standing for setup-python), the artifacts handed over as the actions would."""
    document = yaml.safe_load((SCALE_OUT / "grade-class.yml").read_text(encoding="utf-8"))
    shards = document["jobs"]["grade"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, int(document["env"]["SHARDS"]) + 1))
    uses = {step["uses"].split("@")[0] for job in document["jobs"].values() for step in job["steps"] if "uses" in step}
    assert uses == {"actions/checkout", "actions/setup-python", "actions/upload-artifact", "actions/download-artifact"}
    checkout = shutil.copytree(course, tmp_path / "checkout")
    expected = a_class(checkout / "submissions", course)
    runner = new_venv(tmp_path / "runner")
    env = {**os.environ, **TEST_LANGUAGE, **{name: str(value) for name, value in document["env"].items()},
           "PATH": f"{runner}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(runner.parent)}
    env.pop("PYTHONPATH", None)
    artifacts = tmp_path / "artifacts"
    for shard in shards:
        for step in document["jobs"]["grade"]["steps"]:
            if "run" in step and "apt-get" not in step["run"]:  # bubblewrap: installed on this machine already
                run_step(with_matrix(step["run"], shard=shard), checkout, env)
            elif step.get("uses", "").startswith("actions/upload-artifact"):
                name = with_matrix(step["with"]["name"], shard=shard)
                shutil.copytree(checkout / with_matrix(step["with"]["path"], shard=shard), artifacts / name)
    report = shutil.copytree(course, tmp_path / "report-checkout")
    for step in document["jobs"]["report"]["steps"]:
        if step.get("uses", "").startswith("actions/download-artifact"):
            assert step["with"]["pattern"] == "grades-*"
            for folder in artifacts.iterdir():
                shutil.copytree(folder, report / folder.name)  # one folder per artifact, named after it
        elif "run" in step:
            run_step(step["run"], report, {**env, "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")},
                     shell=("bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c") if step.get("shell") == "bash"
                     else ("bash", "-e", "-c"))
    with open(report / "grades.csv", encoding="utf-8-sig", newline="") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert {student: row["exercise-1"] for student, row in rows.items()} == \
        {student: "1" if status == "passed" else "0" for student, status in expected.items()}
    assert (report / "class-report.html").stat().st_size > 10_000
    assert "exercise-1" in (tmp_path / "summary.md").read_text(encoding="utf-8")


# --- docs/scale-out/grade-class-job.yaml: a Kubernetes Indexed Job ---------------------------

def job() -> dict:
    return yaml.safe_load((SCALE_OUT / "grade-class-job.yaml").read_text(encoding="utf-8"))


def test_the_indexed_job_is_valid_for_kubernetes() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    assert kubernetes_validate.validate(job(), "1.30.0", strict=True)
    broken = job()
    broken["spec"]["template"]["spec"]["containers"][0]["workingdir"] = "/course"  # a misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.30.0", strict=True)


def test_the_indexed_job_grades_every_shard_and_its_merge_reads_them(installed: Path, course: Path,
                                                                    tmp_path: Path) -> None:
    """Each pod's command, run with its ``JOB_COMPLETION_INDEX`` in an image with the course
    at /course and the grader installed from it (the wheel, with the report extra), the
    volume at /class; then the merge the header gives."""
    spec = job()["spec"]
    assert spec["completions"] == spec["parallelism"] and spec["completionMode"] == "Indexed"
    (container,) = spec["template"]["spec"]["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    assert int(env["SHARDS"]) == spec["completions"]
    volume = tmp_path / "class"
    expected = a_class(volume / "submissions", course)
    image = {"/class": str(volume), "/course": str(course)}

    def in_this_machine(script: str) -> str:
        for path, here in image.items():
            script = script.replace(path, here)
        return script

    (script,) = container["args"]
    pod = {**os.environ, **TEST_LANGUAGE, **env, "PATH": f"{installed}{os.pathsep}{os.environ['PATH']}"}
    for index in range(spec["completions"]):
        run_step(in_this_machine(script), tmp_path, {**pod, "JOB_COMPLETION_INDEX": str(index)},
                 shell=tuple(container["command"]))
    assert sorted(path.name for path in (volume / "grades").iterdir()) == \
        [f"shard-{i}" for i in range(1, spec["completions"] + 1)]
    merge = next(line.strip("# ") for line in (SCALE_OUT / "grade-class-job.yaml").read_text().splitlines()
                 if "grade report" in line)
    run_step(in_this_machine(merge), tmp_path, pod)
    with open(tmp_path / "grades.csv", encoding="utf-8-sig", newline="") as file:
        assert {row["student"]: row["exercise-1"] for row in csv.DictReader(file)} == \
            {student: "1" if status == "passed" else "0" for student, status in expected.items()}
