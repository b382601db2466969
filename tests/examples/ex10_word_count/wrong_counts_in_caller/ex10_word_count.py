# expect: failed — the pool only lower-cases the lines; all the counting happens in the caller, so no chunk is counted in a worker
import multiprocessing as mp
from collections import Counter


def count_words(lines, processes=2):
    with mp.Pool(processes) as pool:
        lowered = pool.map(str.lower, lines)
    counts = Counter()
    for line in lowered:
        counts.update(line.split())
    return dict(counts)
