"""The starters as the course ships them, whatever the student has done to ``exercises/``.

``grade reset`` restores one from here, ``grade show`` reads its instructions, and the
project's tests grade them (they must fail). The course's git history is the record of
what was shipped; the commit is, first match wins:

1. ``$GRADE_STARTERS_REF``, if set (a ref that does not resolve is an error);
2. ``origin/HEAD``, if it resolves (the course as cloned);
3. ``HEAD``.

None of them exists where the course is not a git checkout (or git is missing).
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


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    # GIT_DIR and the like (set when this runs in a git hook) would point git elsewhere.
    env = {name: value for name, value in os.environ.items()
           if name not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX")}
    return subprocess.run(["git", *args], cwd=root, capture_output=True, env=env, stdin=subprocess.DEVNULL)


def starters_ref(root: Path) -> str | None:
    """The commit the starters are taken from (see the module's docstring), or None when
    ``root`` is not in a git work tree, git is missing or nothing is committed yet."""
    if shutil.which("git") is None or _git(root, "rev-parse", "--is-inside-work-tree").returncode != 0:
        return None
    explicit = os.environ.get(REF_VARIABLE)
    for ref in [explicit] if explicit else ["origin/HEAD", "HEAD"]:
        resolved = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if resolved.returncode == 0:
            return resolved.stdout.decode().strip()
    if explicit:
        raise StarterError(f"{REF_VARIABLE}={explicit!r} is not a commit of the repository at {root}")
    return None


def shipped_starter(root: Path, module: str) -> tuple[bytes, str] | None:
    """The starter ``exercises/<module>.py`` as shipped and the commit it comes from; None
    when there is no commit to read or the commit does not have the file."""
    commit = starters_ref(root)
    if commit is None:
        return None
    # ``./`` makes the path relative to ``root``, which need not be the repository's top.
    blob = _git(root, "cat-file", "blob", f"{commit}:./{STARTERS}/{module}.py")
    return (blob.stdout, commit) if blob.returncode == 0 else None


def materialise_starters(root: Path, dest: Path) -> dict[str, str]:
    """Copy every starter of the course at ``root`` into ``dest`` as shipped; a file the
    commit does not have (a new exercise not committed yet), or every file where there is
    no commit, is taken from the working tree. Returns ``{file name: its commit, or
    "working tree"}``. A starter the student deleted is restored from the commit."""
    dest.mkdir(parents=True, exist_ok=True)
    sources: dict[str, str] = {}
    commit = starters_ref(root)
    if commit is not None:
        listed = _git(root, "ls-tree", "-z", "--name-only", commit, f"./{STARTERS}/")
        if listed.returncode != 0:
            raise StarterError(f"git ls-tree {commit}: {listed.stderr.decode().strip()}")
        for path in filter(None, listed.stdout.decode().split("\0")):
            name = Path(path).name
            if name.endswith(".py"):
                blob = _git(root, "cat-file", "blob", f"{commit}:./{STARTERS}/{name}")
                if blob.returncode != 0:
                    raise StarterError(f"git cat-file {commit}:{STARTERS}/{name}: {blob.stderr.decode().strip()}")
                (dest / name).write_bytes(blob.stdout)
                sources[name] = commit
    for path in sorted((root / STARTERS).glob("*.py")):
        if path.name not in sources:
            shutil.copyfile(path, dest / path.name)
            sources[path.name] = WORKING_TREE
    return sources
