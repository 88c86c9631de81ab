"""The textbook fronts of NSGA-II: every pair compared (each with its own coins under P&NSGA),
fronts peeled from the dominance matrix, then DEAP's crowding and cut.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uintp

from evosim.counter_rng import ALWAYS, Stream, below, draw, stream_state
from evosim.engine.nsga2.crowding import _crowding_into, _last_front, cut

S_DOMINANCE = Stream.DOMINANCE.value  # stream ids S_DOMINANCE + m: the coins of objective m


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
def _list_fronts(rank, k):
    """The members of the fronts that fill k, front by front in index order: (members, start
    (front f is members[start[f]:start[f + 1]]), the last front, how many precede it)."""
    n = rank.size
    sizes = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        if rank[i] >= 0:
            sizes[uintp(rank[i])] += 1
    last, filled = _last_front(sizes, k)
    start = np.zeros(last + 2, dtype=np.int64)
    for f in range(last + 1):
        start[f + 1] = start[f] + sizes[f]
    members = np.empty(start[last + 1], dtype=np.int64)
    slot = start[: last + 1].copy()
    for i in range(n):
        f = rank[i]
        if 0 <= f <= last:
            members[uintp(slot[uintp(f)])] = i
            slot[uintp(f)] += 1
    return members, start, last, filled


@njit(cache=True)
def _select_pairwise(values, weights, thresholds, k, key, generation, order):
    """``select_sorted`` by the pairwise sort, its fronts listed in index order."""
    rank = front_ranks(dominance_matrix(values, weights, thresholds, key, generation), k)
    return _select_ranked(values, rank, k, key, generation, order)


@njit(cache=True)
def _select_ranked(values, rank, k, key, generation, order):
    """``select_sorted`` given the fronts' ranks (-1: unranked): DEAP's crowding of each front
    listed in index order, and the cut."""
    n = values.shape[0]
    members, start, last, filled = _list_fronts(rank, k)
    dist = np.zeros(members.size)
    order_scratch = np.empty(members.size, dtype=np.int64)
    column_scratch = np.empty(members.size)
    for f in range(last + 1):
        a, b = start[f], start[f + 1]
        _crowding_into(values, members[a:b], dist[a:b], order_scratch[a:b], column_scratch[a:b])
    crowd = np.zeros(n)
    chosen_flag = np.zeros(n, dtype=np.bool_)
    for p in range(members.size):
        i = uintp(members[p])
        crowd[i] = dist[p]
        chosen_flag[i] = p < start[last]
    a, b = start[last], start[last + 1]
    keep = cut(members[a:b], dist[a:b], k - filled, key, generation)
    for p in range(b - a):
        chosen_flag[uintp(members[a + p])] = keep[p]
    return order[chosen_flag[order]], rank, crowd, min(start[1], k)
