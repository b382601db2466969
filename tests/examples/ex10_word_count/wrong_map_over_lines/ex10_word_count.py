# expect: failed — pool.map(count_chunk, lines) hands count_chunk one line (a str) per call, and `for line in lines` over a str walks its characters: single characters are counted instead of words
import multiprocessing as mp
from collections import Counter


def count_chunk(lines):
    """Map step: count the lower-cased words of some lines."""
    counts = Counter()
    for line in lines:
        counts.update(word.lower() for word in line.split())
    return counts


def count_words(lines, processes=2):
    with mp.Pool(processes) as pool:
        partial_counts = pool.map(count_chunk, lines)
    total = Counter()
    for counts in partial_counts:
        total.update(counts)
    return dict(total)
