# expect: failed — job makes a brand-new Lock in each process, so each child locks its own lock, nothing is mutually exclusive, and updates are lost
import multiprocessing as mp


def job(v, num, lock, times):
    lock = mp.Lock()
    with lock:
        for _ in range(times):
            v.value += num


def multicore(times=10_000):
    v = mp.Value('i', 0)
    lock = mp.Lock()
    p1 = mp.Process(target=job, args=(v, 1, lock, times))
    p2 = mp.Process(target=job, args=(v, 3, lock, times))
    p1.start()
    p2.start()
    p1.join()
    p2.join()
    return v.value
