# expect: failed — each Process gets a Lock() of its own, made in the loop that starts it: under fork the two locks differ, so neither process waits for the other and updates are lost; under spawn and forkserver the first lock is dropped when the loop makes the second, before the first child opens it, so that child dies with FileNotFoundError and its additions are never made
# start methods: fork, spawn
import multiprocessing as mp


def job(v, num, lock, times):
    with lock:
        for _ in range(times):
            v.value += num


def multicore(times=10_000):
    v = mp.Value('i', 0)
    workers = []
    for num in (1, 3):
        lock = mp.Lock()
        p = mp.Process(target=job, args=(v, num, lock, times))
        p.start()
        workers.append(p)
    for p in workers:
        p.join()
    return v.value
