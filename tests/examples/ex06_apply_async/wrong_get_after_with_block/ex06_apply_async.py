# expect: timeout — many() reads the results after its `with mp.Pool()` block has ended: leaving the block terminated the pool, so the tasks its workers had not finished never get a result and .get() waits for ever (not a deadlock between processes)
import multiprocessing as mp
import time


def job(x):
    time.sleep(0.05)  # a task takes a moment, as real work does: none is done when the block ends
    return x * x


def one(x):
    with mp.Pool() as pool:
        res = pool.apply_async(job, (x,))
        return res.get()


def many(values):
    with mp.Pool() as pool:
        pending = [pool.apply_async(job, (v,)) for v in values]
    return [res.get() for res in pending]
