"""The C library, for the system calls of the sandbox that Python does not wrap
(Landlock's, seccomp's, mounts), and the check of their result.

Standard library only, and ``ctypes`` alone (the supervisor runs as ``python -I -S``).
"""

from __future__ import annotations

import ctypes
import os

_LIBC: ctypes.CDLL | None = None


def libc() -> ctypes.CDLL:
    """The C library, loaded once, with ``errno`` kept and the prototypes set."""
    global _LIBC
    if _LIBC is None:
        loaded = ctypes.CDLL(None, use_errno=True)
        loaded.syscall.restype = ctypes.c_long
        loaded.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        loaded.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        _LIBC = loaded
    return _LIBC


def check(result: int, what: str = "") -> int:
    """``result`` of a C call, or OSError with its ``errno`` if it failed (negative);
    ``what`` names the step in the message."""
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}" if what else os.strerror(errno))
    return result
