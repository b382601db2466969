# expect: failed — many() returns the AsyncResult objects themselves; .get() is never called, so no numbers come back
import multiprocessing as mp


def job(x):
    return x * x


def one(x):
    with mp.Pool() as pool:
        return pool.apply_async(job, (x,)).get()


def many(values):
    with mp.Pool() as pool:
        multi_res = [pool.apply_async(job, (v,)) for v in values]
    return multi_res
