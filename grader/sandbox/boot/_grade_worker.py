"""The sandbox worker: imports the submission and makes the calls a check asked for.

Started by the supervisor as ``python -S _grade_worker.py`` in its own session (no
``site``: an interpreter starts in a third of the time, and so does every spawn child,
which inherits the flag). The tracing runtime is installed on import of this file, so
spawn children and the fork server, which import it as ``__mp_main__``, get it too. The
submission's script (exercise-2) runs with ``site`` and gets the runtime from
``sitecustomize``. Spawn and forkserver children run this file again (compiled from
source each time): it is kept this short, and everything the worker itself does is in
``_grade_calls``, imported only in the worker.
"""

import _grade_runtime

_grade_runtime.install()

if __name__ == "__main__":
    import _grade_calls

    _grade_calls.main()
