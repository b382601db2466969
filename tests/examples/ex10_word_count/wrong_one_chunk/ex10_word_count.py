# expect: failed — all the lines go to the pool as ONE chunk, so a single worker does all the counting and the others sit idle
import multiprocessing as mp
from collections import Counter


def count_chunk(chunk):
    return Counter(w.lower() for line in chunk for w in line.split())


def count_words(lines, processes=2):
    with mp.Pool(processes) as pool:
        result = pool.apply_async(count_chunk, (lines,)).get()
    return dict(result)
