# expect: failed — target=target(*args) calls the target right here in the caller and hands its return value (None) to Process, so the child runs nothing
import multiprocessing as mp
import threading as td


def run_in_process(target, args=()):
    p = mp.Process(target=target(*args))
    p.start()
    p.join()
    return p.exitcode


def run_in_thread(target, args=()):
    t = td.Thread(target=target, args=args)
    t.start()
    t.join()
