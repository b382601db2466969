# expect: passed
"""Exercise 2 — the main guard. Everything that starts processes lives in main()."""
from multiprocessing import Pool


def square(x):
    return x * x


def main():
    with Pool(processes=3) as pool:
        squares = list(pool.imap(square, range(10)))
    print(squares)


if __name__ == "__main__":
    main()
