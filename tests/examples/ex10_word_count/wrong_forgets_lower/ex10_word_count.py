# expect: failed — words are not lower-cased, so "The" and "the" are counted as different words
import multiprocessing as mp
from collections import Counter


def count_chunk(chunk):
    c = Counter()
    for line in chunk:
        c.update(line.split())
    return c


def count_words(lines, processes=2):
    size = max(1, -(-len(lines) // processes))
    chunks = [lines[i:i + size] for i in range(0, len(lines), size)]
    with mp.Pool(processes) as pool:
        partials = pool.map(count_chunk, chunks)
    return dict(sum(partials, Counter()))
