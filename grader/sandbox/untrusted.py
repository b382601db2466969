"""Reading what a sandbox leaves in its session folder, as the hostile data it is.

The submission can write to its session folder: it can replace any file there with a
symbolic link (to ``/proc/self/environ``: the *reader's* environment), a FIFO (a reader
that opens it blocks for ever), a device or a sparse file of many gigabytes. So every
file is opened relative to a directory descriptor the grader opened when it created
the folder, one path component at a time, with ``O_NOFOLLOW`` (no link anywhere on the
way) and ``O_NONBLOCK`` (a FIFO cannot stall the open), then refused unless it is a
regular file, and read only up to a limit. Anything else raises :class:`Tampered`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_DIR_FLAGS = _OPEN_FLAGS | os.O_DIRECTORY


class Tampered(Exception):
    """A file of the session folder is not what the grader's own processes write."""


class SessionFolder:
    """A session folder created by the grader, read without following links."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, _DIR_FLAGS)  # opened right after mkdtemp, before any sandbox runs

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def read(self, relative: str, limit: int, start: int = 0) -> tuple[bytes, int] | None:
        """At most ``limit`` bytes of ``relative`` from offset ``start``, and the file's
        size; None when the file does not exist."""
        fd = self._open(relative)
        if fd is None:
            return None
        try:
            size = os.fstat(fd).st_size
            return os.pread(fd, max(0, min(limit, size - start)), start), size
        finally:
            os.close(fd)

    def names(self, subfolder: str, suffix: str, limit: int) -> list[str]:
        """Names ending in ``suffix`` in ``subfolder`` (at most ``limit`` of them, else Tampered)."""
        fd = self._open_dir(subfolder)
        if fd is None:
            return []
        try:
            names = [name for name in os.listdir(fd) if name.endswith(suffix)]
        finally:
            os.close(fd)
        if len(names) > limit:
            raise Tampered(f"{len(names)} files in {subfolder}/ (at most {limit} are written)")
        return sorted(names)

    def _open(self, relative: str) -> int | None:
        *folders, name = relative.split("/")
        parent = self._open_dir("/".join(folders)) if folders else os.dup(self.fd)
        if parent is None:
            return None
        try:
            fd = os.open(name, _OPEN_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            return None
        except OSError as error:  # ELOOP: a symbolic link; ENXIO and others: not a plain file
            raise Tampered(f"{relative} cannot be opened as a plain file ({error.strerror})") from None
        finally:
            os.close(parent)
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise Tampered(f"{relative} is not a regular file")
        return fd

    def _open_dir(self, relative: str) -> int | None:
        fd = os.dup(self.fd)
        for part in relative.split("/"):
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                os.close(fd)
                return None
            except OSError as error:
                os.close(fd)
                raise Tampered(f"{relative}/ cannot be opened as a folder ({error.strerror})") from None
            os.close(fd)
            fd = child
        return fd
