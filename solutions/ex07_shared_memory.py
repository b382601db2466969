"""Exercise 7 - Value/Array: reference solution.

A float needs the ``'d'`` (C double) type code. For ``squares`` each of the
``workers`` children gets the strided indexes ``k, k + workers, ...``; no
two children share a slot, so no extra locking is needed, and a child whose
range is empty simply does nothing.
"""
import multiprocessing as mp


def add(v, delta):
    """Child: add delta to the shared value."""
    with v.get_lock():          # += is a read then a write: keep them together
        v.value += delta


def add_in_child(start, delta):
    v = mp.Value('d', start)
    p = mp.Process(target=add, args=(v, delta))
    p.start()
    p.join()
    return v.value


def fill(array, indexes):
    """Child: write i * i at every index it was given."""
    for i in indexes:
        array[i] = i * i


def squares(n, workers=2):
    if workers < 1:
        raise ValueError('workers must be at least 1')
    array = mp.Array('i', n)
    processes = [mp.Process(target=fill, args=(array, range(k, n, workers)))
                 for k in range(workers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return list(array)


if __name__ == '__main__':
    print(add_in_child(3.14, 0.5))
    print(squares(10))
