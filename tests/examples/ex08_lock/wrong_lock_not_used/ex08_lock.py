# expect: failed — the lock is passed to job but never acquired, so the two processes' v.value += num race and updates are lost (total below 4 * times)
import multiprocessing as mp


def job(v, num, lock, times):
    for _ in range(times):
        v.value += num


def multicore(times=10_000):
    v = mp.Value('i', 0)
    l = mp.Lock()
    p1 = mp.Process(target=job, args=(v, 1, l, times))
    p2 = mp.Process(target=job, args=(v, 3, l, times))
    p1.start()
    p2.start()
    p1.join()
    p2.join()
    return v.value
