# expect: failed — prints the lazy imap iterator object ("<multiprocessing.pool.IMapIterator object at 0x...>") instead of the list of squares
import multiprocessing as mp


def square(x):
    return x * x


if __name__ == '__main__':
    with mp.Pool() as pool:
        print(pool.imap(square, range(10)))
