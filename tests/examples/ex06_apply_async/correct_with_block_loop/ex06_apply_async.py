# expect: passed
from multiprocessing import Pool


def job(x):
    return x * x


def one(x):
    with Pool(2) as pool:
        result = pool.apply_async(job, (x,))
        value = result.get(timeout=60)
    return value


def many(values):
    with Pool(2) as pool:
        pending = []
        for v in values:
            pending.append(pool.apply_async(job, (v,)))
        out = []
        for result in pending:           # submission order
            out.append(result.get(timeout=60))
    return out
