"""Who the submission runs as: when the grader is root (CI, containers, Gradescope), a
user id of its own per session, never root.

A session's user id is picked at random in :data:`SANDBOX_UIDS`, a range no system
gives its users, so no file of the machine belongs to it and no other process runs as
it: the submission can signal, trace or read only its own processes, reach only what
every user may (a root-only socket such as ``docker.sock`` is refused by the kernel's
permission checks), and ``RLIMIT_NPROC`` counts its processes alone. The worker switches
to it before ``exec`` (``boot/_grade_supervisor.py``), with no supplementary groups; the
change of user clears every capability, and ``no_new_privs`` (set by Landlock and the
seccomp filter) keeps a set-user-id program from giving one back.

The interpreter and the sandbox's boot files must then be readable by any user. Under
bubblewrap they are (it shows their folders to the sandbox with mode 0755); elsewhere
the grader checks once (:func:`reason_not_used`) and, where they are not (a Python
installed under ``/root``), the submission runs as root with every capability dropped,
as ``grade --version`` says.
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path

SANDBOX_UIDS = range(1_900_000_000, 1_900_000_000 + 2**24)
PROBE_UID = SANDBOX_UIDS.start


def new_uid() -> int:
    """A user id for one session (and the same number as its group id)."""
    return SANDBOX_UIDS.start + secrets.randbelow(len(SANDBOX_UIDS))


@functools.cache
def reason_not_used(bwrap: bool, python: str, boot_dir: Path) -> str:
    """'' when sessions run as a user of their own here, else why not (once per grader
    process): the grader is not root, or a user other than root cannot read the Python
    installation or the boot files (checked by a child that becomes such a user)."""
    if os.geteuid() != 0:
        return "the grader is not root: the submission runs as the grader's user"
    if bwrap:
        return ""
    needed = [python, os.path.dirname(os.__file__), *map(str, sorted(boot_dir.glob("_grade_*.py")))]
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setresgid(PROBE_UID, PROBE_UID, PROBE_UID)
            os.setresuid(PROBE_UID, PROBE_UID, PROBE_UID)
            code = 0 if all(os.access(path, os.R_OK) for path in needed) and os.access(python, os.X_OK) else 2
        finally:
            os._exit(code)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code == 2:
        return (f"users other than root cannot read the Python installation ({os.path.dirname(python)}) or the "
                "grader's files: the submission runs as root without capabilities; install Python and grade where "
                "every user can read them (e.g. /usr/local), or install bubblewrap")
    if code != 0:
        return "the grader may not change its user here (no CAP_SETUID): the submission runs as root"
    return ""


def hand_over(folder: Path, uid: int, writable: list[Path], files: list[Path]) -> None:
    """Let user ``uid`` into the session folder (owned by root, mode 0755) and write in
    ``writable`` (folders) and ``files`` (made empty if missing); nothing else of it."""
    folder.chmod(0o755)
    for path in files:
        path.touch()
    for path in [*writable, *files]:
        os.chown(path, uid, uid)
