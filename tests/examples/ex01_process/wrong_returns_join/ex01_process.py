# expect: failed — returns p.join(), which is always None: the exit code is in p.exitcode (sys.exit(3) must give 3)
import multiprocessing as mp
import threading as td


def run_in_process(target, args=()):
    p = mp.Process(target=target, args=args)
    p.start()
    return p.join()


def run_in_thread(target, args=()):
    t = td.Thread(target=target, args=args)
    t.start()
    t.join()
