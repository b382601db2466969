# expect: failed — the pool is kept in a global "for reuse" and never closed/joined, so its worker processes are still alive after multicore() returns
import multiprocessing as mp


def job(x):
    return x * x


_pool = None


def multicore(values, processes=None):
    global _pool
    if _pool is None:
        _pool = mp.Pool(processes=processes)
    return _pool.map(job, values)
