# expect: failed — imap_unordered returns results in the order the workers finish them, not in the order of values
import multiprocessing as mp


def job(x):
    return x * x


def multicore(values, processes=None):
    with mp.Pool(processes) as pool:
        results = list(pool.imap_unordered(job, values))
        pool.close()
        pool.join()
    return results
