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

S_DOMINANCE = 64          # stream ids S_DOMINANCE + m: the coins of objective m
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
    dom = dominance_matrix(values, weights, thresholds, key, generation)
    rank = front_ranks(dom, k)
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
