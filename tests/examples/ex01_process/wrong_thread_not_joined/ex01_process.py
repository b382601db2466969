# expect: failed — run_in_thread starts the thread but never joins it, so it returns before the target has finished
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
