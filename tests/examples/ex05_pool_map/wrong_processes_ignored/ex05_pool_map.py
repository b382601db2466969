# expect: failed — the processes argument is ignored: Pool() always starts one worker per CPU, so processes=3 does not give 3 workers (unless the machine happens to have exactly 3 CPUs)
import multiprocessing as mp


def job(x):
    return x * x


def multicore(values, processes=None):
    with mp.Pool() as pool:
        return pool.map(job, values)
