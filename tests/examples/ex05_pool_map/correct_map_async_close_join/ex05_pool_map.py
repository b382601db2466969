# expect: passed
from multiprocessing import Pool


def job(x):
    return x * x


def multicore(values, processes=None):
    pool = Pool(processes)
    try:
        pending = pool.map_async(job, list(values))
        result = pending.get()
    finally:
        pool.close()
        pool.join()
    return result
