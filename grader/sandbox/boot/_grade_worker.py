"""The sandbox worker: imports the submission and makes the calls a check asked for.

Started by the supervisor as ``python -S _grade_worker.py`` in its own session (no
``site``: an interpreter starts in a third of the time, and so does every spawn child,
which inherits the flag). The tracing runtime is installed on import of this file, so
spawn children and the fork server, which import it as ``__mp_main__``, get it too. The
submission's script (exercise-2) runs with ``site`` and gets the runtime from
``sitecustomize``. For each call the worker tells the
supervisor ``start I`` and ``end I`` on the control socket, waits for ``go``
(the supervisor checks for leftover processes in between) and writes the outcome to
``calls/I.json``. Spawn and forkserver children import this file as ``__mp_main__``:
everything below runs only in the worker itself.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time

import _grade_runtime

_grade_runtime.install()

TRACEBACK_LIMIT = 4_000


def main() -> None:
    folder = os.environ["GRADE_SANDBOX_DIR"]
    config = _grade_runtime._CONFIG
    control_fd, go_fd = (int(fd) for fd in os.environ.pop("GRADE_CONTROL_FDS").split(","))
    go = os.fdopen(go_fd, "r")
    sys.path.insert(0, config["source_dir"])
    sys.argv = [os.path.join(config["source_dir"], config["module"] + ".py")]
    # Before any code of the submission is imported: its claims about helpers come too late.
    os.write(control_fd, ("ready " + " ".join(map(str, _start_helpers(config["method"])))).encode())
    for index, call in enumerate(config["calls"]):
        with open(os.path.join(folder, "current_call"), "w", encoding="utf-8") as file:
            file.write(str(index))
        started = time.monotonic()
        os.write(control_fd, f"start {index} {started!r}".encode())
        outcome = _make_call(config, call, folder, index)
        outcome["t0"], outcome["t"] = started, time.monotonic()
        _grade_runtime.flush_array_writes()
        sys.stdout.flush()
        sys.stderr.flush()
        outcome["output_end"] = [os.fstat(1).st_size, os.fstat(2).st_size]
        record = _grade_runtime.to_json(outcome).encode("utf-8", "surrogatepass")
        with open(os.path.join(folder, "calls", f"{index}.json"), "wb") as file:
            file.write(record)
        # The digest goes through the supervisor: a record another process rewrites does not match.
        os.write(control_fd, f"end {index} {hashlib.sha256(record).hexdigest()}".encode())
        if go.readline().strip() != "go":
            break


def _make_call(config: dict, call: dict, folder: str, index: int) -> dict:
    import importlib
    import traceback

    import _grade_values

    try:
        if call["kind"] == "script":
            return _run_script(config, call, folder, index)
        module = importlib.import_module(config["module"])
        if call["kind"] == "import":
            return {"status": "returned", "value": None, "type": "NoneType"}
        function = getattr(module, call["function"], None)
        if function is None:
            return {"status": "missing", "function": call["function"]}
        value = function(*[_decode_argument(arg) for arg in call["args"]])
        return {"status": "returned", "value": _grade_values.encode(value), "type": type(value).__name__}
    except SystemExit as exit_:
        return {"status": "exited", "code": exit_.code if isinstance(exit_.code, int) else repr(exit_.code)}
    except BaseException as error:  # the submission may raise anything, KeyboardInterrupt included
        if isinstance(error, MemoryError):
            # Free what the failed frames hold (the memory that ran out) before reporting.
            traceback.clear_frames(error.__traceback__)
        return {
            "status": "raised",
            "exception": type(error).__name__,
            "message": _safe_str(error),
            "traceback": "".join(traceback.format_exception(error))[-TRACEBACK_LIMIT:],
        }


def _run_script(config: dict, call: dict, folder: str, index: int) -> dict:
    """Run the submission as ``python <module>.py`` (start method set by sitecustomize)."""
    import subprocess

    script = os.path.join(config["source_dir"], config["module"] + ".py")
    stdout_path = os.path.join(folder, "calls", f"{index}.stdout")
    stderr_path = os.path.join(folder, "calls", f"{index}.stderr")
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        completed = subprocess.run([sys.executable, "-s", script], stdin=subprocess.DEVNULL,
                                   stdout=stdout, stderr=stderr, cwd=os.getcwd())
    return {"status": "exited", "code": completed.returncode}


def _decode_argument(argument):
    """Arguments are plain data; ``{"__ref__": "module.name"}`` stands for a function."""
    import importlib

    if isinstance(argument, dict) and "__ref__" in argument:
        module_name, _, name = argument["__ref__"].rpartition(".")
        return getattr(importlib.import_module(module_name), name)
    if isinstance(argument, list):
        return [_decode_argument(item) for item in argument]
    return argument


def _start_helpers(method: str) -> list[int]:
    """Start multiprocessing's long-lived helpers now, so the supervisor knows them from
    the submission's processes: the resource tracker and, for forkserver, the server."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    pids = [resource_tracker._resource_tracker._pid]
    if method == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()
        pids.append(forkserver._forkserver._forkserver_pid)
    return [pid for pid in pids if pid]


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)[:2_000]
    except Exception:
        return f"<{type(error).__name__} whose str() failed>"


if __name__ == "__main__":
    main()
