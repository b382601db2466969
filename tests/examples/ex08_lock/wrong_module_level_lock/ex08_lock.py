# expect: failed — job holds a lock made at the top level of the module: under fork the children share it, but under spawn and forkserver each child imports the module afresh and makes its own LOCK, so updates are lost
import multiprocessing as mp

LOCK = mp.Lock()


def job(v, num, lock, times):
    for _ in range(times):
        with LOCK:
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
