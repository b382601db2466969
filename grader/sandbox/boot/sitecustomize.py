"""Loaded by every Python process started inside a grading sandbox.

The sandbox puts this folder on ``PYTHONPATH``, so the worker, every spawn child, the
forkserver and any ``python`` the submission starts install the tracing runtime before
running a line of student code. Outside a sandbox (no ``GRADE_SANDBOX_DIR``) it does
nothing.
"""

import os

if os.environ.get("GRADE_SANDBOX_DIR"):
    import _grade_runtime

    _grade_runtime.install()
