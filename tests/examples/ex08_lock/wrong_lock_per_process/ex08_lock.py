# expect: failed — job holds a lock around the update, but multicore creates two Locks and gives each process its own, so neither ever waits for the other and updates are lost
import multiprocessing as mp


def job(v, num, lock, times):
    with lock:
        for _ in range(times):
            v.value += num


def multicore(times=10_000):
    v = mp.Value('i', 0)
    lock1, lock2 = mp.Lock(), mp.Lock()
    p1 = mp.Process(target=job, args=(v, 1, lock1, times))
    p2 = mp.Process(target=job, args=(v, 3, lock2, times))
    p1.start()
    p2.start()
    p1.join()
    p2.join()
    return v.value
