# expect: failed — a lambda is passed to pool.map: the pool cannot pickle it to send it to its workers (PicklingError), under every start method
import collections
import multiprocessing as mp


def count_words(lines, processes=2):
    if not lines:
        return {}
    k = min(len(lines), processes * 4)
    n = len(lines)
    chunks = [lines[i * n // k:(i + 1) * n // k] for i in range(k)]
    with mp.Pool(processes) as pool:
        partial = pool.map(lambda chunk: collections.Counter(w.lower() for line in chunk for w in line.split()),
                           chunks)
    total = collections.Counter()
    for counts in partial:
        total.update(counts)
    return dict(total)
