# expect: passed
import multiprocessing as mp
import sys


def square(x):
    return x ** 2


def main():
    pool = mp.Pool()
    try:
        result = pool.map(square, range(10))
    finally:
        pool.close()
        pool.join()
    print(result)
    return 0


if __name__ == '__main__':
    sys.exit(main())
