# expect: passed
import multiprocessing as mp


def job(v, num, lock, times):
    for _ in range(times):
        lock.acquire()              # hold the lock only around the read-modify-write
        try:
            v.value += num
        finally:
            lock.release()


def multicore(times=10_000):
    v = mp.Value('i', 0)
    lock = mp.Lock()
    workers = [mp.Process(target=job, args=(v, num, lock, times)) for num in (1, 3)]
    for w in workers:
        w.start()
    for w in reversed(workers):
        w.join()
    return v.value
