"""Let the submission's user reach folders that only root may enter, without bubblewrap.

A root grader runs the submission as a user of its own (``grader/sandbox/account.py``);
that user must read the Python installation and the boot files. Where one of the
folders above them is closed to other users (a pyenv under ``/root``, mode 0700), the
worker, still root, makes a mount namespace of its own before it changes user
(:func:`reach`): each such folder is covered by an empty tmpfs of mode 0755 holding only
the way down to the folders needed, each bound back at its own path. The worker and all
it starts see the same paths as before (tracebacks, Landlock's rules, the supervisor's
view are unchanged), and nothing else of the covered folder: the rest of ``/root`` is
simply not there. Mounts made in the namespace never reach the machine's (the whole
tree is made private first), and the namespace ends with its last process.

Standard library only (the supervisor runs as ``python -I -S``), imported only where needed.
"""

from __future__ import annotations

import os

try:  # in the sandbox, boot/ is on sys.path; in the grader, a package
    from _grade_libc import check, libc as c_library
except ImportError:
    from grader.sandbox.boot._grade_libc import check, libc as c_library

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
COVER_OPTIONS = b"mode=0755,size=65536,nr_inodes=256"


def closed_above(path: str) -> str | None:
    """The highest folder above ``path`` (or ``path`` itself) that users other than root
    and its owner cannot enter (no execute bit for others), or None."""
    current = "/"
    for part in [part for part in path.split("/") if part]:
        current = os.path.join(current, part)
        try:
            if not os.stat(current).st_mode & 0o001:
                return current
        except OSError:
            return None
    return None


def reach(paths: list[str]) -> None:
    """In a new mount namespace, make each of ``paths`` reachable by any user (see the
    module). Raises OSError if the kernel refuses (no CAP_SYS_ADMIN)."""
    libc = c_library()
    check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "making the mounts private")
    originals = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in paths}  # before anything is covered
    mask = os.umask(0o022)  # the way down: mode 0755
    try:
        for path, fd in originals.items():
            closed = closed_above(path)
            if closed is None:
                continue
            check(libc.mount(b"tmpfs", closed.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, COVER_OPTIONS),
                  f"covering {closed}")
            for other, other_fd in originals.items():  # every needed path under it, bound back
                if other == closed or other.startswith(closed.rstrip("/") + "/"):
                    os.makedirs(other, mode=0o755, exist_ok=True)
                    check(libc.mount(f"/proc/self/fd/{other_fd}".encode(), other.encode(), None,
                                     MS_BIND | MS_REC, None), f"showing {other}")
    finally:
        os.umask(mask)
        for fd in originals.values():
            os.close(fd)
