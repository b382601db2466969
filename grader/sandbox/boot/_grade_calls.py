"""The worker's own work: imports the submission and makes the calls a check asked for.

Run by ``_grade_worker.py`` in the worker process only. Kept out of that file because
spawn children and the fork server run the worker's main file again (as
``__mp_main__``, compiled from source every time: ``runpy`` keeps no byte code), and
they need none of this. For each call the worker tells the supervisor ``start I``
and waits for ``go`` (the supervisor reads the worker's CPU time in between), makes the
call, tells ``end I`` and waits for ``go`` again (the supervisor reads the CPU time and
checks for leftover processes in between) and writes the outcome to ``calls/I.json``. What it needs only
for some calls (``traceback`` for an exception, ``subprocess`` for a script) is
imported then.
"""

from __future__ import annotations

import os
import sys
import time

import _grade_runtime
import _grade_values

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
        if go.readline().strip() != "go":  # the supervisor has read this process's CPU time
            break
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
        os.write(control_fd, f"end {index} {_grade_values.sha256(record).hexdigest()}".encode())
        if go.readline().strip() != "go":
            break


def _make_call(config: dict, call: dict, folder: str, index: int) -> dict:
    import importlib

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
        import traceback

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

    if not _fork_resource_tracker(resource_tracker):
        resource_tracker.ensure_running()
    pids = [resource_tracker._resource_tracker._pid]
    if method == "forkserver":
        from multiprocessing import forkserver

        if not _fork_forkserver(forkserver, resource_tracker):
            forkserver.ensure_running()
        pids.append(forkserver._forkserver._forkserver_pid)
    return [pid for pid in pids if pid]


def _fork_resource_tracker(resource_tracker) -> bool:
    """Start the resource tracker as a fork of this process, not as a new interpreter:
    ``ResourceTracker.ensure_running`` runs ``python -c "...resource_tracker import
    main; main(fd)"``, ~30 ms of start-up and imports in every session, where a fork of
    the worker (which has imported all of it already, and runs nothing of the submission
    yet) takes one. The child runs the same ``main`` on the same pipe, with the same
    descriptors (standard input, output and error, and the pipe: it closes the others,
    as ``spawnv_passfds`` does) and the same signal mask, and leaves with ``os._exit``:
    nothing of the worker runs after it. False (nothing started) where this Python's
    tracker does not look as expected: ``ensure_running`` then does it the usual way."""
    tracker = getattr(resource_tracker, "_resource_tracker", None)
    if tracker is None or getattr(tracker, "_fd", 0) is not None or not hasattr(resource_tracker, "main"):
        return False
    import signal

    masked = getattr(resource_tracker, "_HAVE_SIGMASK", False)
    ignored = getattr(resource_tracker, "_IGNORED_SIGNALS", ())
    read, write = os.pipe()
    if masked:  # as ensure_running: the tracker must not die of these before it ignores them
        signal.pthread_sigmask(signal.SIG_BLOCK, ignored)
    try:
        pid = os.fork()
        if pid == 0:
            try:
                keep = sorted({0, 1, 2, read} | _runtime_fds())
                for low, high in zip(keep, [*keep[1:], 4096]):
                    if low + 1 < high:  # closerange(n, n) may close everything (close_range's last = n - 1)
                        os.closerange(low + 1, high)
                resource_tracker.main(read)
            finally:
                try:
                    sys.stderr.flush()
                finally:
                    os._exit(0)
    except OSError:
        os.close(read)
        os.close(write)
        return False
    finally:
        if masked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, ignored)
    os.close(read)
    tracker._fd, tracker._pid = write, pid
    return True


def _fork_forkserver(forkserver, resource_tracker) -> bool:
    """Start the fork server as a fork of this process, as :func:`_fork_resource_tracker`
    does the resource tracker (``ForkServer.ensure_running`` runs a new interpreter,
    ~50 ms a session): the same listening socket and "alive" pipe, made the same way,
    the same ``main`` with the same arguments (it imports this process's main module
    for its children, which this process already has: the tracing runtime). The child
    keeps only those two descriptors and standard input, output and error, forgets the
    resource tracker's pipe (its children get it from their client, as usual) and leaves
    with ``os._exit``. False (nothing started) where this Python's fork server does not
    look as expected: ``ensure_running`` then does it the usual way."""
    import socket

    from multiprocessing import connection, spawn, util

    server = getattr(forkserver, "_forkserver", None)
    tracker = getattr(resource_tracker, "_resource_tracker", None)
    if server is None or tracker is None or getattr(server, "_forkserver_pid", 0) is not None \
            or not hasattr(forkserver, "main"):
        return False
    preload = server._preload_modules
    data = {}
    if preload:
        data = {key: value for key, value in spawn.get_preparation_data("ignore").items()
                if key in ("main_path", "sys_path")}
    with socket.socket(socket.AF_UNIX) as listener:
        address = connection.arbitrary_address("AF_UNIX")
        listener.bind(address)
        if not util.is_abstract_socket_namespace(address):
            os.chmod(address, 0o600)
        listener.listen()
        alive_r, alive_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(alive_r)
            os.close(alive_w)
            return False
        if pid == 0:
            code = 0
            try:
                keep = sorted({0, 1, 2, listener.fileno(), alive_r} | _runtime_fds())
                for low, high in zip(keep, [*keep[1:], 4096]):
                    if low + 1 < high:
                        os.closerange(low + 1, high)
                tracker._fd = tracker._pid = None  # closed above: not this process's to use
                forkserver.main(listener.fileno(), alive_r, preload, **data)
            except SystemExit as exit_:  # how main ends: every client has gone
                code = exit_.code if isinstance(exit_.code, int) else 0
            except BaseException:
                code = 1
                import traceback

                traceback.print_exc()  # as the interpreter would have
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        os.close(alive_r)
    server._forkserver_address = address
    server._forkserver_alive_fd = alive_w
    server._forkserver_pid = pid
    return True


def _runtime_fds() -> set[int]:
    """The descriptors the tracing runtime holds in this process (its stack file)."""
    try:
        return {_grade_runtime._stack_file.fileno()}
    except (AttributeError, OSError, ValueError):
        return set()


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)[:2_000]
    except Exception:
        return f"<{type(error).__name__} whose str() failed>"
