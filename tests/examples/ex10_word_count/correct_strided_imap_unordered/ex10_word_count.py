# expect: passed
import multiprocessing as mp


def _count(lines):
    counts = {}
    for line in lines:
        for word in line.lower().split():
            counts[word] = counts.get(word, 0) + 1
    return counts


def count_words(lines, processes=2):
    # strided chunks: chunk k holds lines k, k+processes, k+2*processes, ...
    chunks = [lines[k::processes] for k in range(processes)]
    chunks = [c for c in chunks if c]
    merged = {}
    pool = mp.Pool(processes=processes)
    try:
        for partial in pool.imap_unordered(_count, chunks):   # merging is order-free
            for word, n in partial.items():
                merged[word] = merged.get(word, 0) + n
    finally:
        pool.close()
        pool.join()
    return merged
