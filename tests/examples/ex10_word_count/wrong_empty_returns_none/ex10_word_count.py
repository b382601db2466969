# expect: failed — count_words([]) returns None instead of {} (an early bare return); the other calls are right
import multiprocessing as mp
from collections import Counter


def count_chunk(lines):
    """Map step: count the lower-cased words of some lines."""
    counts = Counter()
    for line in lines:
        counts.update(word.lower() for word in line.split())
    return counts


def count_words(lines, processes=2):
    if not lines:
        return
    chunks = [lines[i::processes] for i in range(processes)]
    with mp.Pool(processes) as pool:
        partial_counts = pool.map(count_chunk, chunks)
    total = Counter()
    for counts in partial_counts:
        total.update(counts)
    return dict(total)
