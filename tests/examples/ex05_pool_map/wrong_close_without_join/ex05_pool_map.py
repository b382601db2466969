# expect: failed — multicore() closes its pool but never joins it, so its worker processes may still be running when it returns
import multiprocessing as mp


def job(x):
    return x * x


def multicore(values, processes=None):
    pool = mp.Pool(processes=processes)
    results = pool.map(job, values)
    pool.close()
    return results
