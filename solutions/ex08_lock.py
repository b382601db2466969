"""Exercise 8 - Lock: reference solution.

Each read-modify-write of the shared value happens while holding the lock,
so the two processes can interleave their loops but never their updates.
"""
import multiprocessing as mp


def job(v, num, lock, times):
    for _ in range(times):
        with lock:              # acquire() ... release(), even on error
            v.value += num


def multicore(times=10_000):
    lock = mp.Lock()
    v = mp.Value('i', 0)
    p1 = mp.Process(target=job, args=(v, 1, lock, times))
    p2 = mp.Process(target=job, args=(v, 3, lock, times))
    p1.start()
    p2.start()
    p1.join()
    p2.join()
    return v.value


if __name__ == '__main__':
    print(multicore(), 'expected', 4 * 10_000)
