"""The starters as the course ships them, whatever the student has done to ``exercises/``.

``grade reset`` restores one from here, ``grade show`` reads its instructions, and the
project's tests grade them (they must fail). The course's git history is the record of
what was shipped; the commit is, first match wins:

1. ``$GRADE_STARTERS_REF``, if set (a ref that does not resolve is an error);
2. ``origin/HEAD``, if it resolves (the course as cloned);
3. ``HEAD``.

None of them exists where the course is not a git checkout (or git is missing).

The teacher's commands, ``grade check`` and ``grade export``, read the course at one
commit of their own instead (:func:`teacher_commit`): ``--ref``, else
``$GRADE_STARTERS_REF``, else ``HEAD``, the teacher's last commit, pushed or not, so that
what is checked is what is exported. The resolution above, ``origin/HEAD`` first, is
the students' (the course as cloned) and the project's tests'.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

STARTERS = "exercises"
REF_VARIABLE = "GRADE_STARTERS_REF"
WORKING_TREE = "working tree"


class StarterError(Exception):
    """The starters' commit cannot be read (a bad ``$GRADE_STARTERS_REF``, a git failure)."""


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """git in ``cwd`` (output captured), for every command that reads the course's history."""
    # GIT_DIR and the like (set when this runs in a git hook) would point git elsewhere.
    env = {name: value for name, value in os.environ.items()
           if name not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX")}
    return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, env=env,
                          stdin=None if stdin is not None else subprocess.DEVNULL)


def resolve_commit(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names in the repository at ``root``; None when it names none."""
    resolved = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return resolved.stdout.decode().strip() if resolved.returncode == 0 else None


def starters_ref(root: Path) -> str | None:
    """The commit the starters are taken from (see the module's docstring), or None when
    ``root`` is not in a git work tree, git is missing or nothing is committed yet."""
    if shutil.which("git") is None or git(root, "rev-parse", "--is-inside-work-tree").returncode != 0:
        return None
    explicit = os.environ.get(REF_VARIABLE)
    for ref in [explicit] if explicit else ["origin/HEAD", "HEAD"]:
        commit = resolve_commit(root, ref)
        if commit is not None:
            return commit
    if explicit:
        raise StarterError(f"{REF_VARIABLE}={explicit!r} is not a commit of the repository at {root}")
    return None


def teacher_ref() -> str:
    """The ref ``grade check`` and ``grade export`` read the course at when no ``--ref`` is
    given: ``$GRADE_STARTERS_REF`` if set, else ``HEAD``."""
    return os.environ.get(REF_VARIABLE) or "HEAD"


def teacher_commit(root: Path, ref: str | None = None) -> str | None:
    """The commit the teacher's commands read the course at: ``ref`` (``--ref``), else
    :func:`teacher_ref`. None when ``root`` is not in a git work tree (or git is missing)
    or nothing is committed yet, unless a ref was given (``ref``, or the variable): a
    ref given that does not name a commit is an error (:class:`StarterError`)."""
    given = ref or os.environ.get(REF_VARIABLE)
    if shutil.which("git") is None or git(root, "rev-parse", "--is-inside-work-tree").returncode != 0:
        if ref:
            raise StarterError(f"--ref {ref}: {root} is not in a git repository (or git is missing)")
        return None
    commit = resolve_commit(root, given or "HEAD")
    if commit is not None:
        return commit
    if given:
        source = f"--ref {ref}" if ref else f"{REF_VARIABLE}={given}"
        raise StarterError(f"{source}: {given!r} is not a commit of the repository at {root}")
    return None


def shipped_starter(root: Path, module: str) -> tuple[bytes, str] | None:
    """The starter ``exercises/<module>.py`` as shipped and the commit it comes from; None
    when there is no commit to read or the commit does not have the file."""
    commit = starters_ref(root)
    if commit is None:
        return None
    # ``./`` makes the path relative to ``root``, which need not be the repository's top.
    blob = git(root, "cat-file", "blob", f"{commit}:./{STARTERS}/{module}.py")
    return (blob.stdout, commit) if blob.returncode == 0 else None


def materialise_starters(root: Path, dest: Path) -> dict[str, str]:
    """Copy every starter of the course at ``root`` into ``dest`` as shipped (at
    :func:`starters_ref`); see :func:`copy_starters`."""
    return copy_starters(root, dest, starters_ref(root))


def copy_starters(root: Path, dest: Path, commit: str | None) -> dict[str, str]:
    """Copy every starter of the course at ``root`` into ``dest`` as committed at
    ``commit``; a file the commit does not have (a new exercise not committed yet), or
    every file where there is no commit (None), is taken from the working tree. Returns
    ``{file name: its commit, or "working tree"}``. A starter the student deleted is
    restored from the commit."""
    dest.mkdir(parents=True, exist_ok=True)
    sources: dict[str, str] = {}
    if commit is not None:
        listed = git(root, "ls-tree", "-z", "--name-only", commit, f"./{STARTERS}/")
        if listed.returncode != 0:
            raise StarterError(f"git ls-tree {commit}: {listed.stderr.decode().strip()}")
        for path in filter(None, listed.stdout.decode().split("\0")):
            name = Path(path).name
            if name.endswith(".py"):
                blob = git(root, "cat-file", "blob", f"{commit}:./{STARTERS}/{name}")
                if blob.returncode != 0:
                    raise StarterError(f"git cat-file {commit}:{STARTERS}/{name}: {blob.stderr.decode().strip()}")
                (dest / name).write_bytes(blob.stdout)
                sources[name] = commit
    for path in sorted((root / STARTERS).glob("*.py")):
        if path.name not in sources:
            shutil.copyfile(path, dest / path.name)
            sources[path.name] = WORKING_TREE
    return sources
