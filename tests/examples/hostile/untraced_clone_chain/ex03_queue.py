# expect: failed — collect() is honest, but registers an atexit handler that, once the module has finished, starts a chain of processes with a raw clone(CLONE_UNTRACED) (os.fork where refused), each forking its successor and exiting at once, the last exec'ing `sleep 3601.<marker>` with an empty environment; the grader must report the processes left running and kill the chain
import atexit
import ctypes
import multiprocessing as mp
import os

MARKER = "000000000"  # digits only (sleep parses it); tests/test_containment.py writes a unique one
LINKS = 300
SIGCHLD, CLONE_UNTRACED = 17, 0x00800000
SYS_CLONE = 56  # x86_64

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_registered_by = []


def job(q, index, n):
    q.put((index, sum(i + i**2 + i**3 for i in range(n))))


def _clone():
    """A child the tracer would not see (raw clone, no CLONE_VM: like fork), or a plain fork."""
    pid = _libc.syscall(ctypes.c_long(SYS_CLONE), ctypes.c_ulong(SIGCHLD | CLONE_UNTRACED), ctypes.c_ulong(0),
                        ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    if pid < 0:  # refused (seccomp: EPERM): fork instead, the chain goes on all the same
        pid = os.fork()
    return pid


def _start_chain():
    if _clone() != 0:
        return  # the caller goes on (and exits)
    try:
        for _ in range(LINKS):
            if _clone() != 0:
                os._exit(0)  # each link leaves as soon as its successor exists
        os.execve("/bin/sleep", ["sleep", f"3601.{MARKER}"], {})
    finally:
        os._exit(0)


def _at_exit():
    if _registered_by == [os.getpid()]:  # the worker only, not a child that inherited the handler
        _start_chain()


def collect(ns):
    if not _registered_by:
        _registered_by.append(os.getpid())
        atexit.register(_at_exit)
    q = mp.Queue()
    procs = [mp.Process(target=job, args=(q, index, n)) for index, n in enumerate(ns)]
    for p in procs:
        p.start()
    results = [None] * len(ns)
    for _ in procs:
        index, value = q.get()
        results[index] = value
    for p in procs:
        p.join()
    return results
