# expect: failed — the child process does nothing; the caller adds delta to the Value itself
import multiprocessing as mp


def nothing(v):
    pass


def add_in_child(start, delta):
    v = mp.Value('d', start)
    p = mp.Process(target=nothing, args=(v,))
    p.start()
    p.join()
    v.value += delta
    return v.value


def fill(arr, start, stop):
    for i in range(start, stop):
        arr[i] = i * i


def squares(n, workers=2):
    arr = mp.Array('i', n)
    bounds = [n * k // workers for k in range(workers + 1)]
    ps = [mp.Process(target=fill, args=(arr, bounds[k], bounds[k + 1])) for k in range(workers)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return list(arr)
