# expect: failed — many() uses pool.map instead of one apply_async per value (the exercise is about apply_async)
import multiprocessing as mp


def job(x):
    return x * x


def one(x):
    with mp.Pool() as pool:
        return pool.apply_async(job, (x,)).get()


def many(values):
    with mp.Pool() as pool:
        return pool.map(job, values)
