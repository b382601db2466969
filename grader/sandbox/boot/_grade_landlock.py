"""Landlock for the sandbox worker: what it may read, write, connect to and signal.

Landlock (Linux 5.13 and later) lets an unprivileged process give up rights for itself
and every process it starts, for good: no extra binary, no user namespace, no root. The
supervisor applies it in the forked worker just before ``exec`` (:func:`restrict`); the
supervisor itself stays unrestricted, since it reads ``/proc`` and signals the tree.

Why ``ctypes`` and not PyPI's ``landlock`` package: this file runs inside the sandbox
supervisor, started as ``python -I -S`` (no site packages, by design: nothing installed
in the grader's environment is imported where the submission runs), so a dependency
would have to be vendored into the boot folder; that package is an alpha release, and
the whole interface is three system calls and two structures, below. Standard library
only.

The kernel interface (``include/uapi/linux/landlock.h``):

- ``landlock_create_ruleset(attr, size, flags)``: with ``attr=NULL, size=0,
  flags=LANDLOCK_CREATE_RULESET_VERSION``, the highest ABI the kernel supports; else a
  ruleset fd for ``struct landlock_ruleset_attr {u64 handled_access_fs; u64
  handled_access_net /* ABI 4 */; u64 scoped /* ABI 6 */}``. What is *handled* is
  denied unless a rule allows it.
- ``landlock_add_rule(fd, LANDLOCK_RULE_PATH_BENEATH, attr, 0)`` with the packed
  ``struct landlock_path_beneath_attr {u64 allowed_access; s32 parent_fd}``: allow these
  rights beneath this file or folder.
- ``landlock_restrict_self(fd, 0)``, after ``prctl(PR_SET_NO_NEW_PRIVS, 1)``.

The syscall numbers are 444, 445 and 446 on every architecture (x86_64 and aarch64
included: they come from the unified table), alpha excepted (+110), which is not
supported here. Best effort: only the rights the running ABI knows are handled, and
:func:`restrict` says which walls it raised.
"""

from __future__ import annotations

import ctypes
import os
import stat

try:  # in the sandbox, boot/ is on sys.path; in the grader, a package
    from _grade_libc import check, libc as c_library
except ImportError:
    from grader.sandbox.boot._grade_libc import check, libc as c_library

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1 << 0
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

# Filesystem rights, with the ABI that introduced each.
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

# Rights that a rule on a file that is not a folder may carry.
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
# Read and write, make and remove files, folders, sockets, pipes and symlinks: not device
# nodes (root could otherwise make one for the disk), not ioctl on devices, not exec.
WRITE = (FS_READ_FILE | FS_READ_DIR | FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR
         | FS_MAKE_REG | FS_MAKE_SOCK | FS_MAKE_FIFO | FS_MAKE_SYM | FS_REFER | FS_TRUNCATE)
# Make, open, write and remove regular files whose names one knows, without listing the
# folder (/dev/shm: semaphores and shared memory have random names; others' stay unseen).
UNLISTED = FS_READ_FILE | FS_WRITE_FILE | FS_MAKE_REG | FS_REMOVE_FILE | FS_TRUNCATE


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi() -> tuple[int, str]:
    """The Landlock ABI of the running kernel, and why there is none (0, reason)."""
    system = os.uname()
    if system.sysname != "Linux" or system.machine == "alpha":
        return 0, f"Landlock is for Linux, not alpha (this is {system.sysname} {system.machine})"
    libc = c_library()
    version = libc.syscall(ctypes.c_long(SYS_CREATE_RULESET), None, ctypes.c_size_t(0),
                           ctypes.c_uint32(CREATE_RULESET_VERSION))
    if version > 0:
        return int(version), ""
    errno = ctypes.get_errno()
    if errno == 38:  # ENOSYS
        return 0, f"this kernel ({os.uname().release}) has no Landlock: it needs Linux 5.13 or later"
    if errno == 95:  # EOPNOTSUPP
        return 0, "Landlock is built into this kernel but not enabled (add landlock to its lsm= boot parameter)"
    return 0, f"Landlock was refused here: {os.strerror(errno)}"


def walls(version: int) -> list[str]:
    """What a ruleset of this ABI restricts, in words."""
    found = []
    if version >= 1:
        found.append("files")
    if version >= 4:
        found.append("TCP")
    if version >= 6:
        found += ["signals", "abstract unix sockets"]
    return found


def restrict(read: list[str], write: list[str], unlisted: list[str] = ()) -> dict:
    """Restrict the calling process (and all it will start) for good.

    ``read``: files and folders it may read and execute beneath; ``write``: ones it may
    also write, make and remove files in; ``unlisted``: folders where it may make, open,
    write and remove files by name but not list them. Paths that do not exist are
    skipped. TCP bind and connect are refused (ABI 4); signals to, and abstract unix
    sockets of, processes outside the calling process's domain are refused (ABI 6).
    Capabilities are not Landlock's: the supervisor drops them. Returns ``{"abi": N,
    "walls": [...]}``; raises OSError if the kernel refuses.
    """
    version, reason = abi()
    if not version:
        raise OSError(38, reason)
    libc = c_library()
    handled_fs = FS_BY_ABI[min(version, 5)]
    attr = _RulesetAttr(handled_fs, (NET_BIND_TCP | NET_CONNECT_TCP) if version >= 4 else 0,
                        (SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if version >= 6 else 0)
    size = 8 if version < 4 else 16 if version < 6 else 24  # older kernels know fewer fields
    ruleset = check(libc.syscall(ctypes.c_long(SYS_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size),
                                 ctypes.c_uint32(0)))
    try:
        for paths, rights in ((read, READ), (write, WRITE), (unlisted, UNLISTED)):
            for path in paths:
                _allow(libc, ruleset, path, rights & handled_fs)
        check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        check(libc.syscall(ctypes.c_long(SYS_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0)))
    finally:
        os.close(ruleset)
    return {"abi": version, "walls": walls(version)}


def _allow(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):  # a rule on a file takes file rights only
            rights &= FILE_RIGHTS
        rule = _PathBeneathAttr(rights, fd)
        check(libc.syscall(ctypes.c_long(SYS_ADD_RULE), ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH),
                           ctypes.byref(rule), ctypes.c_uint32(0)))
    finally:
        os.close(fd)
