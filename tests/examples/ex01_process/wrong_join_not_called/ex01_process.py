# expect: failed — run_in_thread writes `t.join` without parentheses: the method is named but never called, so it returns while the thread is still running
import multiprocessing as mp
import threading as td


def run_in_process(target, args=()):
    p = mp.Process(target=target, args=args)
    p.start()
    p.join()
    return p.exitcode


def run_in_thread(target, args=()):
    t = td.Thread(target=target, args=args)
    t.start()
    t.join
