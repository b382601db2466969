# expect: timeout — add_in_child's child waits for an Event nobody sets, so the call never finishes; squares() is still graded (in a fresh sandbox after the timeout) and passes
import multiprocessing as mp


def add(v, delta, ready):
    ready.wait()
    v.value += delta


def add_in_child(start, delta):
    v = mp.Value('d', start)
    ready = mp.Event()
    p = mp.Process(target=add, args=(v, delta, ready))
    p.start()
    p.join()
    return v.value


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
