# expect: failed — count_words prints the merged counts instead of returning them, so it returns None
import multiprocessing as mp
from collections import Counter


def count_chunk(lines):
    """Map step: count the lower-cased words of some lines."""
    counts = Counter()
    for line in lines:
        counts.update(word.lower() for word in line.split())
    return counts


def count_words(lines, processes=2):
    chunks = [lines[i::processes] for i in range(processes)]
    with mp.Pool(processes) as pool:
        partial_counts = pool.map(count_chunk, chunks)
    total = Counter()
    for counts in partial_counts:
        total.update(counts)
    print(dict(total))
