# expect: failed — run_in_process calls p.run() instead of p.start(): run() runs the target right here, in the caller's process, and no child process is ever started
import multiprocessing as mp
import threading as td


def run_in_process(target, args=()):
    p = mp.Process(target=target, args=args)
    p.run()
    return p.exitcode


def run_in_thread(target, args=()):
    t = td.Thread(target=target, args=args)
    t.start()
    t.join()
