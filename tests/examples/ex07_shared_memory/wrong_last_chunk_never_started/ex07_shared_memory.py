# expect: failed — chunks of ceil(n / workers), but the loop over their starts stops one chunk early (range(0, n - size, size)): the last chunk is never given to a worker, so the end of the array stays 0
import multiprocessing as mp


def add(v, delta):
    with v.get_lock():
        v.value += delta


def add_in_child(start, delta):
    v = mp.Value('d', start)
    p = mp.Process(target=add, args=(v, delta))
    p.start()
    p.join()
    return v.value


def fill(array, indexes):
    for i in indexes:
        array[i] = i * i


def squares(n, workers=2):
    array = mp.Array('i', n)
    size = -(-n // workers)
    processes = [mp.Process(target=fill, args=(array, range(start, start + size)))
                 for start in range(0, n - size, size)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return list(array)
