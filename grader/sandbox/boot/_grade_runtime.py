"""Tracing runtime installed in every process of a grading sandbox.

Sends the supervisor, as JSON lines on the sandbox's trace socket, what the checks
need to know about the processes a submission starts: process starts, joins and run
intervals, pool creation/cleanup and tasks, ``apply_async``/``get`` order, thread starts, shared memory segments,
calls of the exercise's traced functions, writes to shared arrays, and a process
started by a child still importing the main module (refused by multiprocessing). It also registers
``faulthandler`` on SIGUSR1 so the supervisor can collect the stack of every process of
a hung submission.

Standard library only: this file runs inside untrusted processes and must not import
the grader. Every timestamp is ``time.monotonic()`` (CLOCK_MONOTONIC, shared by all
processes of the machine).
"""

from __future__ import annotations

import faulthandler
import functools
import importlib.machinery
import marshal
import os
import signal
import sys
import threading
import time

from _grade_values import BALLAST_ROUNDS, MARK_BEGIN, MARK_END, ballast

_DIR = ""
_CONFIG: dict = {}
_trace_socket = None  # connected to the supervisor; inherited by forked children, which is fine
_stack_file = None
_array_writes: dict[int, int] = {}
_value_writes: dict[int, int] = {}


def install() -> None:
    """Install tracing and stack dumping in this process (idempotent)."""
    global _DIR, _CONFIG
    if _DIR:
        return
    _DIR = os.environ["GRADE_SANDBOX_DIR"]
    with open(os.path.join(_DIR, "config.marshal"), "rb") as file:
        _CONFIG = marshal.load(file)  # written by the grader; no json import in every child
    _register_stack_dump()
    for mark in (MARK_BEGIN, MARK_END):  # seen (and swallowed) by the supervisor's tracer; harmless without it
        signal.signal(mark, signal.SIG_IGN)
    os.register_at_fork(after_in_child=_after_fork_in_child)

    import multiprocessing

    multiprocessing.set_start_method(_CONFIG["method"], force=True)
    _patch_process()
    _patch_threading()
    # Pools and shared arrays are patched when first imported: most processes never are.
    patches = {"multiprocessing.pool": _patch_pool, "multiprocessing.sharedctypes": _patch_shared_array,
               "multiprocessing.shared_memory": _patch_shared_memory, "multiprocessing.spawn": _patch_spawn}
    if _CONFIG.get("module"):
        patches[_CONFIG["module"]] = _instrument
    for name, patch in list(patches.items()):
        if name in sys.modules:
            patch(sys.modules[name])
            del patches[name]
    sys.meta_path.insert(0, _PatchingFinder(patches))


def emit(event: str, **fields) -> None:
    """Send one event to the supervisor, on the sandbox's trace socket: the kernel stamps
    it with this process's pid, so no process can write another's records. A record that
    cannot be sent is not silently lost: ``trace/<pid>.dropped`` tells the grader the
    trace of this process is incomplete."""
    global _trace_socket
    if not _DIR:
        return
    fields["ev"] = event
    fields["pid"] = pid = os.getpid()
    fields.setdefault("t", time.monotonic())
    line = (to_json(fields) + "\n").encode("utf-8", "surrogatepass")
    try:
        if _trace_socket is None:
            import _socket

            _trace_socket = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)
            _trace_socket.connect(os.path.join(_DIR, "trace.sock"))
        if _trace_socket.send(line) == len(line):
            return
    except OSError:
        pass  # a full disk or an output limit must not change the submission's behaviour
    try:
        os.close(os.open(os.path.join(_DIR, "trace", f"{pid}.dropped"), os.O_WRONLY | os.O_CREAT, 0o644))
    except OSError:
        pass


_ESCAPES = {code: f"\\u{code:04x}" for code in range(32)} | {ord('"'): '\\"', ord("\\"): "\\\\"}


def to_json(value) -> str:
    """JSON for the plain values of events (the json module costs every child ~10 ms)."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int) or isinstance(value, float) and value == value and abs(value) != float("inf"):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.translate(_ESCAPES) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(map(to_json, value)) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(to_json(str(k)) + ":" + to_json(v) for k, v in value.items()) + "}"
    return to_json(repr(value))


def flush_array_writes() -> None:
    """Emit the shared-array and shared-value write counts of this process, then reset them."""
    count = _array_writes.pop(os.getpid(), 0)
    if count:
        emit("array_writes", count=count)
    count = _value_writes.pop(os.getpid(), 0)
    if count:
        emit("value_writes", count=count)


def _after_fork_in_child() -> None:
    _array_writes.clear()
    _value_writes.clear()
    _register_stack_dump()


def _register_stack_dump() -> None:
    global _stack_file
    path = os.path.join(_DIR, "stacks", f"{os.getpid()}.txt")
    try:
        _stack_file = open(path, "w", encoding="utf-8")
        faulthandler.register(signal.SIGUSR1, file=_stack_file, all_threads=True, chain=False)
    except (OSError, RuntimeError, ValueError):
        pass


def _name_of(func) -> str:
    if func is None:
        return "run"
    if isinstance(func, functools.partial):
        return _name_of(func.func)
    module = getattr(func, "__module__", None) or "?"
    qualname = getattr(func, "__qualname__", None) or repr(func)
    return f"{module}.{qualname}"


def _patch_process() -> None:
    from multiprocessing import process

    base = process.BaseProcess
    original_start, original_join, original_run = base.start, base.join, base.run

    def start(self):
        target = _name_of(getattr(self, "_target", None))  # start() deletes _target
        original_start(self)
        emit("start", child=self.pid, target=target, name=self.name, daemon=self.daemon)

    def join(self, timeout=None):
        emit("join", child=self.pid)
        try:
            return original_join(self, timeout)
        finally:
            emit("joined", child=self.pid, exitcode=self.exitcode)

    def run(self):
        emit("run", target=_name_of(getattr(self, "_target", None)))
        try:
            return original_run(self)
        finally:
            flush_array_writes()
            emit("run_end")

    original_bootstrap = base._bootstrap

    def bootstrap(self, *args, **kwargs):
        """A child's end, as under fork and forkserver: ``os._exit`` once the process has
        run and flushed its output. A spawn child would otherwise finalise the
        interpreter, unmapping its shared memory before the supervisor's tracer counts
        the pages of it the child used (``_grade_tracer.shared_pages``)."""
        code = original_bootstrap(self, *args, **kwargs)
        os._exit(code)

    base.start, base.join, base.run, base._bootstrap = start, join, run, bootstrap


def _patch_pool(pool) -> None:
    original_init = pool.Pool.__init__
    original_close, original_terminate, original_join = (
        pool.Pool.close, pool.Pool.terminate, pool.Pool.join)
    original_apply_async = pool.Pool.apply_async
    original_get = pool.ApplyResult.get
    original_worker = pool.worker

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        emit("pool", pool=id(self), processes=self._processes)

    def close(self):
        emit("pool_close", pool=id(self))
        return original_close(self)

    def terminate(self):
        emit("pool_terminate", pool=id(self))
        return original_terminate(self)

    def join(self):
        emit("pool_join", pool=id(self))
        return original_join(self)

    def apply_async(self, func, args=(), kwds={}, callback=None, error_callback=None):
        emit("apply_async", pool=id(self), func=_name_of(func))
        return original_apply_async(self, func, args, kwds, callback, error_callback)

    def get(self, timeout=None):
        if type(self) is pool.ApplyResult:
            emit("get")
        return original_get(self, timeout)

    @functools.wraps(original_worker)
    def worker(inqueue, outqueue, *args, **kwargs):
        original_inqueue_get = inqueue.get

        def get():
            task = original_inqueue_get()
            if task is None:
                return task
            job, index, func, func_args, func_kwargs = task
            return job, index, _traced_task(func, func_args), func_args, func_kwargs

        inqueue.get = get
        return original_worker(inqueue, outqueue, *args, **kwargs)

    pool.Pool.__init__ = init
    pool.Pool.close, pool.Pool.terminate, pool.Pool.join = close, terminate, join
    pool.Pool.apply_async = apply_async
    pool.ApplyResult.get = get
    pool.worker = worker


def _traced_task(func, args):
    """Wrap one pool task so that its function, size and run interval are recorded.

    ``map`` sends ``mapstar`` with ``args == ((function, chunk),)``; ``apply_async``
    sends the function itself.
    """
    from multiprocessing import pool

    try:
        if func in (pool.mapstar, pool.starmapstar):
            name, items = _name_of(args[0][0]), len(args[0][1])
        else:
            name, items = _name_of(func), 1
    except Exception:  # never let tracing break the submission's pool
        name, items = _name_of(func), 1

    def run(*call_args, **call_kwargs):
        started = time.monotonic()
        result = None
        try:
            if _CONFIG.get("weigh_tasks"):
                result = weighed(func, call_args, call_kwargs, ballasts=items)
            else:
                result = func(*call_args, **call_kwargs)
            return result
        finally:
            per_item = result if func in (pool.mapstar, pool.starmapstar) and isinstance(result, list) else [result]
            emit("task", func=name, items=items, t0=started, t=time.monotonic(),
                 results=[_kind(item) for item in per_item[:100]])

    return run


def _kind(value) -> str:
    """What a task returned, in a word: ``mapping``, ``pairs`` (of key and value), or its type."""
    try:
        if isinstance(value, dict):
            return "mapping"
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(item, tuple) and len(item) == 2 for item in value[:1000]):
            return "pairs"
    except Exception:
        pass
    return type(value).__name__


def _patch_threading() -> None:
    original_start = threading.Thread.start

    def start(self):
        emit("thread_start", target=_name_of(getattr(self, "_target", None)))
        return original_start(self)

    threading.Thread.start = start


def _patch_shared_array(sharedctypes) -> None:
    original_setitem = sharedctypes.SynchronizedArray.__setitem__

    def setitem(self, index, value):
        pid = os.getpid()
        if isinstance(index, slice):
            _array_writes[pid] = _array_writes.get(pid, 0) + len(range(*index.indices(len(self))))
        else:
            _array_writes[pid] = _array_writes.get(pid, 0) + 1
        return original_setitem(self, index, value)

    sharedctypes.SynchronizedArray.__setitem__ = setitem
    value = sharedctypes.Synchronized.value

    def set_value(self, new):
        pid = os.getpid()
        _value_writes[pid] = _value_writes.get(pid, 0) + 1
        value.fset(self, new)

    sharedctypes.Synchronized.value = property(value.fget, set_value)


def _patch_shared_memory(shared_memory) -> None:
    """Record shared memory segments created and unlinked (a segment never unlinked
    outlives every process: the resource tracker's "leaked shared_memory" warning)."""
    segment = shared_memory.SharedMemory
    original_init, original_unlink = segment.__init__, segment.unlink

    def init(self, name=None, create=False, size=0):
        original_init(self, name, create, size)
        if create:
            emit("shm_create", name=self.name, size=self.size)

    def unlink(self):
        emit("shm_unlink", name=self.name)
        return original_unlink(self)

    segment.__init__, segment.unlink = init, unlink


REFUSED_HOLD_S = 2.0  # how long a refused child waits for the supervisor to stop the call


def _patch_spawn(spawn) -> None:
    """Record a process started by a child that is still importing the main module
    (spawn, forkserver): multiprocessing refuses it with a RuntimeError, and the
    supervisor stops the call there (the code that starts processes has no main guard).

    The refused child waits for that stop before it prints its traceback and exits (in
    ``sys.excepthook``, which spawn and forkserver children call): were it to die first,
    a Pool could be caught with no worker left (a ZeroDivisionError in ``map``) or not,
    and its workers print as many tracebacks as had time to, by chance; held, every such
    call ends the same way (the check quotes the error)."""
    original = spawn._check_not_importing_main

    def check_not_importing_main():
        try:
            return original()
        except RuntimeError:
            if getattr(spawn.process.current_process(), "_inheriting", False):
                emit("start_while_importing")
                sys.excepthook = functools.partial(_hold_and_print, sys.excepthook)
            raise

    spawn._check_not_importing_main = check_not_importing_main


def _hold_and_print(excepthook, *exc_info) -> None:
    time.sleep(REFUSED_HOLD_S)
    excepthook(*exc_info)


class _PatchingFinder:
    """Patches a module right after it is first imported, in whichever process."""

    def __init__(self, patches: dict) -> None:
        self.patches = patches

    def find_spec(self, fullname, path=None, target=None):
        patch = self.patches.get(fullname)
        if patch is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader_exec = spec.loader.exec_module

        def exec_module(module):
            loader_exec(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


def _instrument(module) -> None:
    align = _CONFIG.get("align") or {}
    order = _CONFIG.get("order") or {}
    for name in _CONFIG.get("traced", []):
        func = getattr(module, name, None)
        if callable(func) and not getattr(func, "_grade_traced", False):
            setattr(module, name, _traced_function(func, align if align.get("function") == name else None,
                                                   order if order.get("function") == name else None))


def weighed(func, args: tuple, kwargs: dict, ballasts: int = 1):
    """``func(*args, **kwargs)`` after spending ``ballasts`` ballasts of CPU time, between
    two marks the supervisor's tracer sees (signals this thread sends itself): the CPU
    time the kernel charged to this thread in between shows which process did the work."""
    signal.pthread_kill(threading.get_ident(), MARK_BEGIN)
    try:
        ballast(BALLAST_ROUNDS * ballasts)
        return func(*args, **kwargs)
    finally:
        signal.pthread_kill(threading.get_ident(), MARK_END)


def _traced_function(func, align, order):
    weigh = func.__name__ in _CONFIG.get("weighed", ())

    @functools.wraps(func)
    def traced(*args, **kwargs):
        if align:
            _rendezvous(align)
        turn = _Turn(order, func, args, kwargs) if order else None
        if turn and order["hold"] == "before":
            turn.wait()
        started = time.monotonic()
        try:
            return weighed(func, args, kwargs) if weigh else func(*args, **kwargs)
        finally:
            emit("call", func=func.__name__, t0=started, t=time.monotonic(),
                 main_thread=threading.current_thread() is threading.main_thread())
            if turn:
                if order["hold"] == "after":
                    turn.wait()
                turn.done()

    traced._grade_traced = True
    return traced


class _Turn:
    """The ordering harness: calls of a function finish in the order the check chose.

    A check that must see results arrive out of input order (a Queue read in arrival
    order, ``imap_unordered``) names a *release order* of the calls' keys (an argument,
    e.g. ``index``). The call at position ``p`` of that order waits (before calling the
    function, or before returning from it) until every earlier position has completed:
    its process has exited (so its queue was flushed), or it ran in a thread of this
    process that has ended (so whatever the thread did with the result is done: one
    thread per task, exercise-4's ``threaded``), or it finished ``grace_s`` ago (a
    thread that lives on, in a pool, or a process that goes on).
    An earlier position that has not even arrived is waited for only until ``window_s``
    after the call's first arrival: processes run one after the other never arrive
    together, and the harness then records that it could not impose the order.
    Positions only ever wait for earlier ones, so the harness cannot deadlock.
    """

    def __init__(self, order: dict, func, args: tuple, kwargs: dict) -> None:
        self.position = None
        try:
            with open(os.path.join(_DIR, "current_call"), encoding="utf-8") as file:
                call = file.read().strip()
            keys = order["calls"].get(int(call))
            key = _argument(func, order["key_arg"], args, kwargs)
            if keys is None or key not in keys:
                return
            self.position = keys.index(key)
            self.order = order
            self.folder = os.path.join(_DIR, "order", call)
            os.makedirs(self.folder, exist_ok=True)
            self._create("first", repr(time.monotonic()))
            self._create(f"arrived-{self.position}", str(os.getpid()))
        except (OSError, ValueError, TypeError):
            self.position = None

    def wait(self) -> None:
        if self.position is None:
            return
        arrived = time.monotonic()
        gave_up = False
        try:
            first = float(self._read("first") or arrived)
            for earlier in range(self.position):
                while not self._completed(earlier):
                    if not self._read(f"arrived-{earlier}") and time.monotonic() >= first + self.order["window_s"]:
                        gave_up = True
                        break
                    time.sleep(0.001)
        except (OSError, ValueError):
            gave_up = True
        emit("ordered", position=self.position, waited_s=time.monotonic() - arrived, gave_up=gave_up)

    def done(self) -> None:
        if self.position is not None:
            _TURN_THREADS[self.folder, self.position] = threading.current_thread()  # before the file says done
            self._create(f"done-{self.position}", f"{os.getpid()} {time.monotonic()!r}")

    def _completed(self, position: int) -> bool:
        done = self._read(f"done-{position}")
        if not done:
            return False
        pid, finished = done.split()
        if time.monotonic() - float(finished) >= self.order["grace_s"] or _exited(int(pid)):
            return True
        return int(pid) == os.getpid() and _thread_ended(_TURN_THREADS.get((self.folder, position)))

    def _create(self, name: str, content: str) -> None:
        """Create ``name`` with ``content`` unless it exists, all at once (readers never
        see it empty): written aside, then linked into place."""
        aside = os.path.join(self.folder, f".{name}.{os.getpid()}.{threading.get_ident()}")
        with open(aside, "w", encoding="utf-8") as file:
            file.write(content)
        try:
            os.link(aside, os.path.join(self.folder, name))
        except FileExistsError:
            pass
        finally:
            os.unlink(aside)

    def _read(self, name: str) -> str:
        try:
            with open(os.path.join(self.folder, name), encoding="utf-8") as file:
                return file.read()
        except FileNotFoundError:
            return ""


def _argument(func, position: int, args: tuple, kwargs: dict):
    """The value ``func`` receives as its parameter number ``position``, however it was
    passed (by position or by name); None if it was not passed."""
    if position < len(args):
        return args[position]
    code = getattr(func, "__code__", None)
    if code is None or position >= code.co_argcount:
        return None
    return kwargs.get(code.co_varnames[position])


_TURN_THREADS: dict = {}  # (order folder, position) -> the thread of this process that completed it


def _thread_ended(thread) -> bool:
    """Whether ``thread`` (a ``threading.Thread`` of this process) has ended. Never for the
    main thread, nor for a thread not started by ``threading`` (its end is not known)."""
    if thread is None or thread is threading.main_thread() or isinstance(thread, threading._DummyThread):
        return False
    return not thread.is_alive()


def _exited(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie counts: its queues were flushed)."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    try:
        return bool(select.select([fd], [], [], 0)[0])
    finally:
        os.close(fd)


def _rendezvous(align: dict) -> None:
    """A barrier between processes of one call, so that racing code really overlaps.

    Each arrival drops a file into a folder of the current call; everyone waits until
    ``parties`` files are there or the timeout passes (code that runs the racing
    processes one after the other then simply continues, a little later).
    """
    try:
        with open(os.path.join(_DIR, "current_call"), encoding="utf-8") as file:
            call = file.read().strip()
        if int(call) not in align["calls"]:
            return
        parties, timeout_s = int(align["parties"]), float(align["timeout_s"])
        folder = os.path.join(_DIR, "align", call)
        os.makedirs(folder, exist_ok=True)
        me = f"{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"
        open(os.path.join(folder, me), "w").close()
        deadline = time.monotonic() + timeout_s
        while len(os.listdir(folder)) < parties and time.monotonic() < deadline:
            time.sleep(0.0005)
        emit("aligned", arrivals=len(os.listdir(folder)))
    except (OSError, ValueError):
        pass
