"""Import a course's check files under names of their own.

A check file lives in a course (``grader/checks/check_ex03_queue.py`` of that course), but
the grader that runs it may be installed elsewhere (a wheel, an editable install of another
clone). Imported by its path in the course (``grader.checks.check_ex03_queue``), it would
be looked up in the installed package instead. :func:`load_check_module` imports the file
itself, under a name made from its folder, that no package and no other copy of the course
can hold.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PREFIX = "_grade_checks_"


def check_module_name(path: Path) -> str:
    """The module name of the check file at ``path``: the same for the same file, a
    different one for a file of the same name in another folder (another course, its
    hidden checks)."""
    folder = str(path.resolve().parent)
    return f"{PREFIX}{hashlib.sha256(folder.encode('utf-8', 'surrogateescape')).hexdigest()[:12]}.{path.stem}"


def load_check_module(path: Path) -> ModuleType:
    """Execute the check file at ``path`` anew (an edited file is read again) and return it,
    registered in :data:`sys.modules` under :func:`check_module_name` (dataclasses and
    pickling look a module up there). Whatever the file raises propagates."""
    name = check_module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} cannot be imported as a Python file", path=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
