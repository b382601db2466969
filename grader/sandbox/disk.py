"""The disk a session may use, and what it leaves behind.

A session folder gets a budget of :data:`DISK_BYTES` bytes and :data:`DISK_FILES` files
and folders, in every mode:

- where the grader may mount (root), the folder *is* a tmpfs of that size and that many
  inodes: the kernel refuses the write past it (``ENOSPC``), and unmounting frees it all
  at once, however deep the tree the submission made;
- elsewhere, ``RLIMIT_FSIZE`` bounds each file and the supervisor measures the folder
  while a call runs (``boot/_grade_supervisor.py``, ``_DiskWatch``).

Past the budget the supervisor stops the session and the check says the code wrote too
much. Under bubblewrap the sandbox's ``/tmp`` and ``/dev/shm`` are tmpfs of their own with
the same size; elsewhere ``/dev/shm`` is the machine's, bounded by the session's memory
cgroup (its pages are charged to it), and :func:`remove_left_behind` removes whatever
the session left there (and, with a user of its own, in ``/tmp`` and ``/var/tmp``:
without Landlock or bubblewrap it may write there).
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from grader.sandbox.boot._grade_libc import libc

DISK_BYTES = 256 * 1024**2
DISK_FILES = 10_000
SHARED_MEMORY = Path("/dev/shm")
SHARED_FOLDERS = (SHARED_MEMORY, Path("/tmp"), Path("/var/tmp"))  # where every user may make files
MNT_DETACH = 2
STALE_FOLDER_S = 3600.0


@functools.cache
def tmpfs_reason() -> str:
    """'' when session folders can be tmpfs mounts here (once per grader process)."""
    if os.geteuid() != 0:
        return "the grader is not root: the supervisor measures the session folder instead"
    probe = Path(tempfile.mkdtemp(prefix="grade-probe-"))
    try:
        if _mount_tmpfs(probe) != 0:
            return (f"mounting a tmpfs was refused ({os.strerror(ctypes.get_errno())}): the supervisor measures "
                    "the session folder instead")
        libc().umount2(str(probe).encode(), MNT_DETACH)
        return ""
    finally:
        probe.rmdir()


def make_folder(tmpfs: bool) -> tuple[Path, bool]:
    """A new session folder, and whether it is a tmpfs of its own (if ``tmpfs``: see
    :func:`tmpfs_reason`)."""
    _remove_stale_folders()
    folder = Path(tempfile.mkdtemp(prefix="grade-"))
    if not tmpfs:
        return folder, False
    if _mount_tmpfs(folder) != 0:
        error = ctypes.get_errno()
        folder.rmdir()
        raise OSError(error, f"the session folder could not be mounted: {os.strerror(error)}")
    return folder, True


def remove_folder(folder: Path, mounted: bool) -> None:
    """Remove a session folder and all in it (unmounting it first if it is a tmpfs)."""
    if mounted and libc().umount2(str(folder).encode(), MNT_DETACH) == 0:
        try:
            folder.rmdir()
            return
        except OSError:
            pass
    remove_tree(folder)


def mounts_below(folder: Path) -> list[str]:
    """The mount points below ``folder`` (``/proc/self/mountinfo``), deepest first."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mountinfo:
            points = [line.split()[4].replace("\\040", " ") for line in mountinfo if len(line.split()) > 4]
    except OSError:
        return []
    return sorted((point for point in points if point.startswith(f"{folder}/")), key=len, reverse=True)


def remove_below(folder: Path) -> None:
    """Remove ``folder`` with every session folder in it, unmounting those that are
    tmpfs (a grader killed before it could: see ``grade batch``'s workers)."""
    for point in mounts_below(folder):
        libc().umount2(point.encode(), MNT_DETACH)
    remove_tree(folder)


def remove_tree(folder: Path) -> None:
    """Remove ``folder`` and whatever the submission left in it, links never followed.
    ``shutil.rmtree`` recurses once per level: a tree thousands of folders deep (deeper
    than a path can name) is left to ``rm``, which walks any depth."""
    try:
        shutil.rmtree(folder, ignore_errors=True)
    except RecursionError:
        pass
    if os.path.lexists(folder):
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(folder)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=60)


def remove_left_behind(uid: int | None, names: list[str]) -> None:
    """Remove what a session left outside its folder.
    With a user of its own (``uid``), which owned nothing before the session: every entry
    it owns in the folders every user may write in (:data:`SHARED_FOLDERS`: ``/dev/shm``,
    ``/tmp``, ``/var/tmp``). Run as the grader's user: the ``names`` of ``/dev/shm`` its
    processes had mapped, if the grader's user owns them. Links are never followed."""
    owners: dict[Path, int] = {}
    if uid is not None:
        for folder in dict.fromkeys([*SHARED_FOLDERS, Path(tempfile.gettempdir())]):
            try:
                owners.update(dict.fromkeys((folder / name for name in os.listdir(folder)), uid))
            except OSError:
                continue
    for name in names:
        if name and "/" not in name and name not in (".", ".."):
            owners.setdefault(SHARED_MEMORY / name, os.geteuid())
    for path, owner in sorted(owners.items()):
        try:
            info = os.lstat(path)
            if info.st_uid != owner:
                continue
            if stat.S_ISDIR(info.st_mode):
                remove_tree(path)
            else:
                path.unlink()
        except OSError:
            continue


@functools.cache
def _remove_stale_folders() -> None:
    """Remove the session folders a grader killed before it could clean up left behind
    (mounted or not), once per grader process: this user's, untouched for STALE_FOLDER_S
    (no session lasts that long)."""
    for folder in Path(tempfile.gettempdir()).glob("grade-*"):
        try:
            info = folder.lstat()
            if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid()
                    or info.st_mtime > time.time() - STALE_FOLDER_S):
                continue
        except OSError:
            continue
        remove_folder(folder, os.path.ismount(folder))


def _mount_tmpfs(folder: Path) -> int:
    options = f"size={DISK_BYTES},nr_inodes={DISK_FILES},mode=0700"
    return libc().mount(b"tmpfs", str(folder).encode(), b"tmpfs", 0, options.encode())
