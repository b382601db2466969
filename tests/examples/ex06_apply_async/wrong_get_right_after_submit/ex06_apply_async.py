# expect: failed — .get() right after each apply_async waits for every task before submitting the next, so the tasks run one at a time
import multiprocessing as mp


def job(x):
    return x * x


def one(x):
    with mp.Pool() as pool:
        return pool.apply_async(job, (x,)).get()


def many(values):
    with mp.Pool() as pool:
        return [pool.apply_async(job, (v,)).get() for v in values]
