# expect: failed — the script gives Pool.map a lambda instead of square: a lambda cannot be pickled to the workers, so map() raises a PicklingError and the script exits with status 1 (its pool.close() and join() never run)
import multiprocessing as mp


def square(x):
    return x * x


if __name__ == "__main__":
    pool = mp.Pool()
    print(pool.map(lambda x: x * x, range(10)))
    pool.close()
    pool.join()
