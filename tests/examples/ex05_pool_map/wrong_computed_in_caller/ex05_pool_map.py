# expect: failed — the pool is created but never used: the list comprehension runs job() in the caller's process
import multiprocessing as mp


def job(x):
    return x * x


def multicore(values, processes=None):
    pool = mp.Pool(processes=processes)
    res = [job(v) for v in values]
    pool.close()
    pool.join()
    return res
