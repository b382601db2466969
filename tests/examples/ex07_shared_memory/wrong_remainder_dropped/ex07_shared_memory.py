# expect: failed — chunks of n // workers: the last n % workers slots are never written
import multiprocessing as mp


def add(v, delta):
    v.value += delta


def add_in_child(start, delta):
    v = mp.Value('d', start)
    p = mp.Process(target=add, args=(v, delta))
    p.start()
    p.join()
    return v.value


def fill(arr, start, stop):
    for i in range(start, stop):
        arr[i] = i * i


def squares(n, workers=2):
    arr = mp.Array('i', n)
    size = n // workers
    ps = [mp.Process(target=fill, args=(arr, k * size, (k + 1) * size)) for k in range(workers)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return list(arr)
