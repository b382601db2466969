# expect: failed — many() uses pool.apply (synchronous) instead of apply_async: apply() waits for each task's result, so the tasks run one after another
import multiprocessing as mp


def job(x):
    return x * x


def one(x):
    with mp.Pool() as pool:
        return pool.apply_async(job, (x,)).get()


def many(values):
    with mp.Pool() as pool:
        return [pool.apply(job, (v,)) for v in values]
