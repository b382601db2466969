# expect: passed
"""Exercise 1 — run a function in a new process, and in a new thread.

Written with the current start-method context, a try/finally that never
leaves a child behind, and Process.close() to release its resources.
"""
import multiprocessing
import threading


def run_in_process(target, args=()):
    ctx = multiprocessing.get_context()   # honours set_start_method()
    proc = ctx.Process(target=target, args=tuple(args), name="ex01-child")
    proc.start()
    try:
        proc.join()
    finally:
        if proc.is_alive():               # only if join() was interrupted
            proc.terminate()
            proc.join()
    code = proc.exitcode
    proc.close()
    return code


def run_in_thread(target, args=()):
    worker = threading.Thread(target=target, args=tuple(args), daemon=True)
    worker.start()
    worker.join()
    return None
