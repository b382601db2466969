# expect: failed — p1 is joined before p2 is started: the total is right, but only because the processes never run at the same time (no concurrency, the lock is pointless)
import multiprocessing as mp


def job(v, num, lock, times):
    with lock:
        for _ in range(times):
            v.value += num


def multicore(times=10_000):
    v = mp.Value('i', 0)
    lock = mp.Lock()
    p1 = mp.Process(target=job, args=(v, 1, lock, times))
    p1.start()
    p1.join()
    p2 = mp.Process(target=job, args=(v, 3, lock, times))
    p2.start()
    p2.join()
    return v.value
