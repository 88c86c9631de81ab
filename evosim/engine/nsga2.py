"""NSGA-II (Deb et al. 2002) over objective arrays, with Clune et al.'s stochastic variant.

Conventions follow DEAP so the kernels can be checked against it: ``values[N, M]`` are raw objective
values and ``weights[M]`` their directions (+1 maximise, -1 minimise); dominance compares
``values * weights``; crowding distances sort the raw values, as ``tools.emo.assignCrowdingDist``.

Stochastic dominance (P&NSGA, Clune, Mouret & Lipson 2013): objective m takes part in a given
comparison of two individuals with probability p_m (performance 1, connection cost 0.25). The coin
of a comparison is a counter-based draw keyed by (generation, objective, pair), so sorting is
deterministic for a run and identical in the NumPy reference. With every p_m = 1 this is NSGA-II.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from evosim.counter_rng import below, bounded, draw, stream_state
from evosim.tasks.logic import popcount64

S_DOMINANCE = 64          # stream ids S_DOMINANCE + m: the coins of objective m
COIN_BITS = 8             # p is used to 1/256: coins compare 8 random bits with round(256 p)
S_MATING = 9
ALWAYS = np.uint64(2**53)  # a threshold that every draw is below: p = 1


@njit(cache=True)
def dominance_matrix(values, weights, thresholds, key, generation) -> np.ndarray:
    """bool[N, N]: [i, j] is True when i dominates j (stochastic per pair where p_m < 1)."""
    n, m_obj = values.shape
    wv = values * weights
    stochastic = np.zeros(m_obj, dtype=np.bool_)
    states = np.empty(m_obj, dtype=np.uint64)
    for m in range(m_obj):
        stochastic[m] = thresholds[m] < ALWAYS
        states[m] = stream_state(key, generation, S_DOMINANCE + m)
    dom = np.zeros((n, n), dtype=np.bool_)
    for i in range(n):
        for j in range(i + 1, n):
            better = False
            worse = False
            for m in range(m_obj):
                if stochastic[m] and not below(draw(states[m], i * n + j), thresholds[m]):
                    continue
                if wv[i, m] > wv[j, m]:
                    better = True
                elif wv[i, m] < wv[j, m]:
                    worse = True
            if better and not worse:
                dom[i, j] = True
            elif worse and not better:
                dom[j, i] = True
    return dom


def coin_threshold(p: float) -> np.uint64:
    """The threshold that makes an objective count with probability p (quantised to 1/256 when
    0 < p < 1, as the bit-sliced coins of the two-objective sort use it)."""
    return ALWAYS if p >= 1.0 else np.uint64(round(p * 2**COIN_BITS) * 2**(53 - COIN_BITS))


@njit(cache=True)
def coin_word(state, index, level) -> np.uint64:
    """64 independent coins, each True with probability level / 256: eight random words are
    eight bit-planes of 64 uniform bytes, compared with ``level`` bit by bit (MSB first)."""
    less = np.uint64(0)
    equal = ~np.uint64(0)
    for k in range(COIN_BITS - 1, -1, -1):
        plane = draw(state, index * COIN_BITS + (COIN_BITS - 1 - k))
        if (level >> k) & 1:
            less |= equal & ~plane
            equal &= plane
        else:
            equal &= ~plane
        if (level & ((1 << k) - 1)) == 0:  # no set bits below: nothing more can be "less"
            break
    return less


@njit(cache=True)
def pareto2_ranks(wv, threshold, needed, key, generation) -> np.ndarray:
    """Front ranks for two objectives (maximise both columns of ``wv``), the first always
    counted, the second in a comparison with probability p (its coin threshold): bitsets.

    Individuals are ordered by the first objective; a row D_j of bits says who dominates j. With
    A_j = better on the first objective and B_j = Pareto-better on both,
    D_j = (A_j and not coin) or (B_j and coin), one coin per pair (only one of a pair can ever
    dominate the other, so the coin sits in the row of the one that could be dominated).
    """
    n = wv.shape[0]
    words = (n + 63) // 64
    order = np.argsort(-wv[:, 0], kind="mergesort")
    first = wv[order, 0]
    second = wv[order, 1]
    level = threshold >> np.uint64(53 - COIN_BITS)
    always = threshold >= ALWAYS
    state = stream_state(key, generation, S_DOMINANCE + 1)
    # at_least[d]: bitset of the positions whose second objective is >= the d-th distinct value
    distinct = np.unique(second)
    value_index = np.searchsorted(distinct, second)
    at_least = np.zeros((distinct.size + 1, words), dtype=np.uint64)
    for r in range(n):
        at_least[value_index[r], r >> 6] |= np.uint64(1) << np.uint64(r & 63)
    for d in range(distinct.size - 1, -1, -1):
        at_least[d] |= at_least[d + 1]
    row_words = np.empty(n, dtype=np.int64)  # row q has bits only below its group's end
    dom = np.zeros((n, words), dtype=np.uint64)
    count = np.zeros(n, dtype=np.int64)
    hi_end = 0
    while hi_end < n:  # one group of equal first objective at a time: positions [hi_end, ge_end)
        ge_end = hi_end
        while ge_end < n and first[ge_end] == first[hi_end]:
            ge_end += 1
        for q in range(hi_end, ge_end):
            row_words[q] = (ge_end + 63) // 64
            ge = at_least[value_index[q]]
            gt = at_least[value_index[q] + 1]
            for w in range((ge_end + 63) // 64):
                better_first = _range_word(w, 0, hi_end)
                b_word = (better_first & ge[w]) | (_range_word(w, hi_end, ge_end) & gt[w])
                if always:
                    word = b_word
                elif better_first | b_word:
                    coin = coin_word(state, q * words + w, level)
                    word = (better_first & ~coin) | (b_word & coin)
                else:
                    word = np.uint64(0)
                dom[q, w] = word
                count[q] += popcount64(word)
        hi_end = ge_end
    ONE = np.uint64(1)
    rank_sorted = np.full(n, -1, dtype=np.int64)
    front_mask = np.zeros(words, dtype=np.uint64)
    front = 0
    ranked = 0
    while ranked < needed:
        front_mask[:] = 0
        members = 0
        low_word, high_word = words, 0
        for q in range(n):
            if rank_sorted[q] < 0 and count[q] == 0:
                rank_sorted[q] = front
                front_mask[q >> 6] |= ONE << np.uint64(q & 63)
                members += 1
                low_word, high_word = min(low_word, q >> 6), max(high_word, (q >> 6) + 1)
        if members == 0:
            break
        ranked += members
        for q in range(n):
            if rank_sorted[q] < 0 and count[q] > 0:
                for w in range(low_word, min(high_word, row_words[q])):
                    count[q] -= popcount64(dom[q, w] & front_mask[w])
        front += 1
    rank = np.empty(n, dtype=np.int64)
    for q in range(n):
        rank[order[q]] = rank_sorted[q]
    return rank


@njit(cache=True, inline="always")
def _range_word(w, start, stop) -> np.uint64:
    """Word w of the bitset of positions start .. stop - 1."""
    low = max(start - w * 64, 0)
    high = min(stop - w * 64, 64)
    if high <= low:
        return np.uint64(0)
    span = high - low
    ones = ~np.uint64(0) if span == 64 else (np.uint64(1) << np.uint64(span)) - np.uint64(1)
    return ones << np.uint64(low)


@njit(cache=True)
def ranks(values, weights, thresholds, needed, key, generation) -> np.ndarray:
    """Front ranks: the bitset sort for two objectives with the first always counted, else the
    general pairwise sort."""
    if values.shape[1] == 2 and thresholds[0] >= ALWAYS:
        return pareto2_ranks(values * weights, thresholds[1], needed, key, generation)
    return front_ranks(dominance_matrix(values, weights, thresholds, key, generation), needed)


@njit(cache=True)
def front_ranks(dom, needed) -> np.ndarray:
    """Pareto front of each individual (0 = non-dominated), peeling fronts until at least
    ``needed`` individuals are ranked (as DEAP's sortNondominated(k)); the rest get -1."""
    n = dom.shape[0]
    count = np.zeros(n, dtype=np.int64)
    for i in range(n):
        for j in range(n):
            if dom[i, j]:
                count[j] += 1
    rank = np.full(n, -1, dtype=np.int64)
    current = np.flatnonzero(count == 0)
    front = 0
    ranked = 0
    while current.size and ranked < needed:
        for i in current:
            rank[i] = front
        ranked += current.size
        nxt = []
        for i in current:
            for j in range(n):
                if dom[i, j]:
                    count[j] -= 1
                    if count[j] == 0:
                        nxt.append(j)
        current = np.array(nxt, dtype=np.int64)
        front += 1
    return rank


@njit(cache=True)
def crowding_distance(values, members) -> np.ndarray:
    """Crowding distance of each member of one front. Ties of equal values are broken by the
    order given and, from the second objective on, by the previous objective's sorted order: the
    front is re-sorted in place objective after objective, as DEAP's assignCrowdingDist does."""
    k, m_obj = members.size, values.shape[1]
    dist = np.zeros(k)
    if k == 0:
        return dist
    order = np.arange(k)
    for m in range(m_obj):
        column = values[members, m]
        order = order[np.argsort(column[order], kind="mergesort")]
        dist[order[0]] = np.inf
        dist[order[-1]] = np.inf
        low, high = column[order[0]], column[order[-1]]
        if high == low:
            continue
        norm = m_obj * (high - low)
        for p in range(1, k - 1):
            dist[order[p]] += (column[order[p + 1]] - column[order[p - 1]]) / norm
    return dist


@njit(cache=True)
def select(values, weights, thresholds, k, key, generation, tie_order):
    """NSGA-II environmental selection of k individuals (DEAP's selNSGA2 semantics).

    ``tie_order`` is a permutation: fronts list their members in that order, which decides ties of
    crowding distance (pass a random permutation; DEAP uses its own front order).
    Returns (chosen indices, rank of every individual (-1 if unranked), crowding distance of every
    ranked individual, size of the first front).
    """
    n = values.shape[0]
    rank = ranks(values, weights, thresholds, k, key, generation)
    crowd = np.zeros(n)
    chosen = np.empty(k, dtype=np.int64)
    filled = 0
    n_front0 = 0
    front = 0
    while filled < k:
        members = np.empty(n, dtype=np.int64)
        size = 0
        for i in tie_order:
            if rank[i] == front:
                members[size] = i
                size += 1
        members = members[:size]
        if front == 0:
            n_front0 = size
        dist = crowding_distance(values, members)
        for p in range(size):
            crowd[members[p]] = dist[p]
        if filled + size <= k:
            chosen[filled: filled + size] = members
            filled += size
        else:
            by_crowding = np.argsort(-dist, kind="mergesort")  # stable: ties keep front order
            chosen[filled:] = members[by_crowding[: k - filled]]
            filled = k
        front += 1
    return chosen, rank, crowd, n_front0


@njit(cache=True)
def binary_tournament(rank, crowd, n_picks, key, generation) -> np.ndarray:
    """n_picks winners of two-way tournaments: lower front, then larger crowding, then the first."""
    n = rank.size
    state = stream_state(key, generation, S_MATING)
    winners = np.empty(n_picks, dtype=np.int64)
    for t in range(n_picks):
        a = bounded(draw(state, 2 * t), n)
        b = bounded(draw(state, 2 * t + 1), n)
        if rank[b] < rank[a] or (rank[b] == rank[a] and crowd[b] > crowd[a]):
            a = b
        winners[t] = a
    return winners
