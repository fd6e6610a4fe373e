"""Lucene queries parsed at the same time by the threads of one web worker (gunicorn gthread, 4 threads) each
get their own tree: luqum's parser is one object per process (bench/load.py saw a 500 and wrong filters)."""
import sys
import threading

from frames.lucene import LuceneError, parse

QUERIES = [f"meta.weather:fog AND meta.score:[{i} TO {i + 50}] OR (labels:car AND confidence:[0.{i % 9} TO 1])" for i in range(24)]


def test_queries_parsed_in_parallel_threads_get_their_own_trees():
    expected = {query: str(parse(query)) for query in QUERIES}
    wrong = []

    def parse_all(offset):
        for _ in range(150):
            for query in QUERIES[offset::4]:
                try:
                    got = str(parse(query))
                except LuceneError as exc:
                    got = f"LuceneError: {exc}"
                if got != expected[query]:
                    wrong.append((query, got))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as a busy server does
    try:
        threads = [threading.Thread(target=parse_all, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == [], f"{len(wrong)} of {4 * 150 * 6} parses went wrong, e.g. {wrong[:2]}"
