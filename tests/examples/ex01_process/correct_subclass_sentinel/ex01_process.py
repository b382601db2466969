# expect: passed
"""Exercise 1 — Process/Thread subclasses, waiting on the process sentinel."""
from multiprocessing import Process
from multiprocessing.connection import wait
from threading import Thread


class CallInProcess(Process):
    """A Process whose run() calls func(*func_args)."""

    def __init__(self, func, func_args):
        super().__init__()
        self.func = func
        self.func_args = tuple(func_args)

    def run(self):
        self.func(*self.func_args)


class CallInThread(Thread):
    def __init__(self, func, func_args):
        super().__init__()
        self.func = func
        self.func_args = tuple(func_args)

    def run(self):
        self.func(*self.func_args)


def run_in_process(target, args=()):
    child = CallInProcess(target, args)
    child.start()
    wait([child.sentinel])      # becomes ready when the child has exited
    child.join()                # reap it and fill in exitcode
    return child.exitcode


def run_in_thread(target, args=()):
    t = CallInThread(target, args)
    t.start()
    while t.is_alive():
        t.join(0.05)
