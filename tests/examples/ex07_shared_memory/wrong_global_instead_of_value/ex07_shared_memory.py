# expect: failed — add_in_child keeps the number in a module global instead of a Value: the child adds delta to its own copy of the global, and the caller's copy never changes
import multiprocessing as mp

total = 0.0


def add(delta):
    global total
    total += delta


def add_in_child(start, delta):
    global total
    total = start
    p = mp.Process(target=add, args=(delta,))
    p.start()
    p.join()
    return total


def fill(array, indexes):
    for i in indexes:
        array[i] = i * i


def squares(n, workers=2):
    array = mp.Array('i', n)
    processes = [mp.Process(target=fill, args=(array, range(k, n, workers))) for k in range(workers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return list(array)
