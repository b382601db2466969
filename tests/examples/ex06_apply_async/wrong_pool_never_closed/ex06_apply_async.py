# expect: failed — many() submits everything with apply_async and collects the right values, but never closes its pool, so its worker processes are still running when it returns
import multiprocessing as mp


def job(x):
    return x * x


def one(x):
    with mp.Pool() as pool:
        return pool.apply_async(job, (x,)).get()


def many(values):
    pool = mp.Pool()
    pending = [pool.apply_async(job, (v,)) for v in values]
    return [res.get() for res in pending]
