"""Exercise 10 - map/reduce: reference solution.

Map: cut the lines into contiguous chunks (a few per worker, never more than
there are lines) and count each chunk in a pool worker. Reduce: add the
partial Counters together in the parent.
"""
import multiprocessing as mp
import os
from collections import Counter

CHUNKS_PER_WORKER = 4


def count_chunk(lines):
    """Map step: count the lower-cased words of some lines."""
    counts = Counter()
    for line in lines:
        counts.update(word.lower() for word in line.split())
    return counts


def split_into_chunks(lines, k):
    """Cut ``lines`` into ``k`` contiguous, non-empty (if k <= len) pieces."""
    n = len(lines)
    return [lines[i * n // k:(i + 1) * n // k] for i in range(k)]


def count_words(lines, processes=2):
    lines = list(lines)
    if not lines:
        return {}
    processes = processes or os.cpu_count() or 1
    k = min(len(lines), processes * CHUNKS_PER_WORKER)
    with mp.Pool(processes) as pool:
        partial_counts = pool.map(count_chunk, split_into_chunks(lines, k))
    total = Counter()
    for counts in partial_counts:   # reduce step
        total.update(counts)
    return dict(total)


if __name__ == '__main__':
    text = ['the cat sat on the mat', 'The dog sat too', 'a cat and a dog']
    print(count_words(text, processes=2))
