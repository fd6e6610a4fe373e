"""The random order of a DataView: which query, and which of its frames, each position of an iteration yields.
Pure functions of the seed, the queries' weights and their frame counts (no database), so the same seed gives
the same frames at any page size.

    finite (one pass)  each frame once, as ClearML's finite random DataView: position n picks a query with
                       probability weight / sum of the weights of the queries with frames left, then that query's
                       next frame in a seeded permutation of its frames (a keyed Feistel network, so the k-th
                       element costs a few hashes whatever the query's size, and no shuffled list is ever built).
                       The state between pages is how many frames each query has yielded (in the cursor).
    infinite           draws with replacement: position n picks a query by weight among the queries matching
                       anything, then one of its frames uniformly, so the weights hold over any run however small
                       a query is.

random.Random("<seed>:<n>") makes position n's draw, so a page never depends on the pages before it except
through the counts a finite pass carries. An offset is a position in the query's matched revision ids, ascending
(selectors.dataviews.dataview_query_ids): reading the drawn frames costs one lookup by id, whatever the query's size.
"""
from __future__ import annotations

import hashlib
import random

FEISTEL_ROUNDS = 4


def _pick(rng: random.Random, weights: list[float], available: list[int]) -> int | None:
    """A query index by weight among those with `available` frames, or None when none has any."""
    live = [(i, w) for i, (w, c) in enumerate(zip(weights, available)) if c > 0 and w > 0]
    if not live:
        return None
    point = rng.random() * sum(w for _, w in live)
    for index, weight in live:
        if point < weight:
            return index
        point -= weight
    return live[-1][0]


def draw(seed: int, n: int, weights: list[float], counts: list[int]) -> tuple[int, int] | None:
    """Infinite views, draw n: (query index, offset in the query's matched frames), or None when nothing can
    be drawn. With replacement."""
    rng = random.Random(f"{seed}:{n}")
    chosen = _pick(rng, weights, counts)
    return None if chosen is None else (chosen, rng.randrange(counts[chosen]))


def pass_draws(seed: int, position: int, limit: int, weights: list[float], counts: list[int],
               taken: list[int]) -> tuple[list[tuple[int, int]], list[int]]:
    """Finite views: up to `limit` draws from `position` on, without replacement, given how many frames each
    query yielded before (`taken`); answers the draws and the new `taken`."""
    taken = list(taken)
    draws = []
    for n in range(position, position + limit):
        chosen = _pick(random.Random(f"{seed}:{n}"), weights, [c - t for c, t in zip(counts, taken)])
        if chosen is None:
            break
        draws.append((chosen, permuted(taken[chosen], counts[chosen], f"{seed}:{chosen}")))
        taken[chosen] += 1
    return draws, taken


def permuted(index: int, size: int, key: str) -> int:
    """The `index`-th element of a pseudo-random permutation of range(size) keyed by `key`: a balanced Feistel
    network over the smallest power of four at least `size`, applied again while it lands outside (cycle
    walking: still a permutation of range(size), at most four rounds of it on average)."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} outside 0..{size - 1}")
    half = max(1, ((size - 1).bit_length() + 1) // 2)
    mask = (1 << half) - 1
    value = index
    while True:
        left, right = value >> half, value & mask
        for step in range(FEISTEL_ROUNDS):
            left, right = right, left ^ (_round(key, step, right) & mask)
        value = (left << half) | right
        if value < size:
            return value


def _round(key: str, step: int, value: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{key}:{step}:{value}".encode(), digest_size=8).digest(), "big")
