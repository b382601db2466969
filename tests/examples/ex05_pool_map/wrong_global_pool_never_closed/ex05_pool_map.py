# expect: failed — every pool is kept in a global list "to close later", which never happens, so its worker processes are still alive after multicore() returns
import multiprocessing as mp


def job(x):
    return x * x


_pools = []  # "closed later": never


def multicore(values, processes=None):
    pool = mp.Pool(processes=processes)
    _pools.append(pool)
    return pool.map(job, values)
