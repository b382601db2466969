"""Exercise 1 - Process: reference solution.

``run_in_process`` runs the target in a new process and returns its exit code;
``run_in_thread`` runs it in a new thread of the caller's process. Both wait
for the target to finish (``join``) before returning.
"""
import multiprocessing as mp
import threading as td


def run_in_process(target, args=()):
    """Run ``target(*args)`` in a child process; return the child's exit code."""
    p = mp.Process(target=target, args=tuple(args))
    p.start()
    p.join()            # wait for the child to finish
    return p.exitcode   # 0 ok, n after sys.exit(n), 1 after an exception


def run_in_thread(target, args=()):
    """Run ``target(*args)`` in a new thread of this process and wait for it."""
    t = td.Thread(target=target, args=tuple(args))
    t.start()
    t.join()


def job(a, d):
    print('aaaaa', a, d)


if __name__ == '__main__':
    print('exit code:', run_in_process(job, (1, 2)))
    run_in_thread(job, (1, 2))
