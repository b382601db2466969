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

The interpreter and the sandbox's boot files must then be readable by that user. Under
bubblewrap they are (it shows their folders to the sandbox with mode 0755); elsewhere,
where a folder above them is closed to other users (a Python installed under
``/root``), the worker shows them through a mount namespace of its own
(``boot/_grade_reach.py``). The grader checks once that this works (:func:`decide`);
where it does not (no mount namespace allowed), the submission runs as root with every
capability dropped, as ``grade --version`` says.
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path

from grader.sandbox.boot import _grade_reach

SANDBOX_UIDS = range(1_900_000_000, 1_900_000_000 + 2**24)
PROBE_UID = SANDBOX_UIDS.start


def new_uid() -> int:
    """A user id for one session (and the same number as its group id)."""
    return SANDBOX_UIDS.start + secrets.randbelow(len(SANDBOX_UIDS))


@functools.cache
def decide(bwrap: bool, python: str, boot_dir: Path) -> tuple[str, tuple[str, ...]]:
    """Whether sessions run as a user of their own here, once per grader process: ('',
    folders to show it through a mount namespace, see ``boot/_grade_reach.py``) when they
    do, else (why not, ()). A child that becomes such a user checks that it can read the
    Python installation and the boot files."""
    if os.geteuid() != 0:
        return "the grader is not root: the submission runs as the grader's user", ()
    if bwrap:
        return "", ()  # bubblewrap shows the folders above with mode 0755
    prefix = os.path.dirname(os.path.dirname(python))
    reach = tuple(path for path in dict.fromkeys([prefix, str(boot_dir)]) if _grade_reach.closed_above(path))
    needed = [python, os.path.dirname(os.__file__), *map(str, sorted(boot_dir.glob("_grade_*.py")))]
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if reach:
                code = 3
                _grade_reach.reach(list(reach))
            os.setgroups([])
            os.setresgid(PROBE_UID, PROBE_UID, PROBE_UID)
            os.setresuid(PROBE_UID, PROBE_UID, PROBE_UID)
            code = 0 if all(os.access(path, os.R_OK) for path in needed) and os.access(python, os.X_OK) else 2
        finally:
            os._exit(code)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code == 0:
        return "", reach
    if code in (2, 3):
        return (f"users other than root cannot read the Python installation ({prefix}) or the grader's files"
                + (", and no mount namespace may show them" if code == 3 else "")
                + ": the submission runs as root without capabilities; install Python and grade where every "
                "user can read them (e.g. /usr/local), or install bubblewrap"), ()
    return "the grader may not change its user here (no CAP_SETUID): the submission runs as root", ()


def hand_over(folder: Path, uid: int, writable: list[Path], files: list[Path]) -> None:
    """Let user ``uid`` into the session folder (owned by root, mode 0755) and write in
    ``writable`` (folders) and ``files`` (made empty if missing); nothing else of it."""
    folder.chmod(0o755)
    for path in files:
        path.touch()
    for path in [*writable, *files]:
        os.chown(path, uid, uid)
