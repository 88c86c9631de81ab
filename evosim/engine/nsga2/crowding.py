"""Crowding distances (as DEAP's ``assignCrowdingDist``: the raw values sorted per objective) and
the cut of the last front, whose equal distances are drawn at random.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from evosim.counter_rng import Stream, bounded, draw, stream_state
from evosim.engine.sorting import radix_sort, sort_keys

S_CUT = Stream.CUT.value  # random ties of crowding distance at the cut


@njit(cache=True)
def crowding_distance(values, members) -> np.ndarray:
    """Crowding distance of each member of one front, as DEAP's assignCrowdingDist: the front is
    sorted objective after objective (stable, so ties keep the order given, then the previous
    objective's order); the two ends get infinity, the others the normalised gap of their
    neighbours. A front already in order is not sorted again."""
    dist = np.zeros(members.size)
    _crowding_into(values, members, dist, np.empty(members.size, dtype=np.int64),
                   np.empty(members.size))
    return dist


@njit(cache=True)
def _crowding_into(values, members, dist, order, column) -> None:
    """``crowding_distance`` added into ``dist`` (zeros), with scratch arrays of the front's size:
    selection computes every front's distances without allocating."""
    k, m_obj = members.size, values.shape[1]
    if k == 0:
        return
    for p in range(k):
        order[p] = p
    for m in range(m_obj):
        for p in range(k):
            column[p] = values[members[p], m]
        if not _in_order(column, order):
            order[:] = radix_sort(sort_keys(column)[0], order)
        dist[order[0]] = np.inf
        dist[order[k - 1]] = np.inf
        low, high = column[order[0]], column[order[k - 1]]
        if high == low:
            continue
        norm = m_obj * (high - low)
        for p in range(1, k - 1):
            dist[order[p]] += (column[order[p + 1]] - column[order[p - 1]]) / norm


@njit(cache=True)
def _in_order(column, order) -> bool:
    """Whether ``column[order]`` is non-decreasing (a loop of its own: inlined in the caller,
    whose ``order`` is reassigned, Numba cannot hoist the loads out of it)."""
    for p in range(1, order.size):
        if column[order[p]] < column[order[p - 1]]:
            return False
    return True


@njit(cache=True)
def cut(members, dist, m, key, generation) -> np.ndarray:
    """bool mask of the ``m`` members of the last front that survive: the largest crowding
    distances, the ties at the threshold drawn at random (a partial Fisher-Yates shuffle)."""
    keep = np.ones(members.size, dtype=np.bool_)
    if m >= members.size:
        return keep
    threshold = _mth_largest_positive(dist[dist > 0.0], m)
    keep = dist > threshold
    tied = np.flatnonzero(dist == threshold)
    for t in _draw_ties(tied, m - np.sum(keep), key, generation):
        keep[t] = True
    return keep


@njit(cache=True)
def _mth_largest_positive(positive, m) -> float:
    """The cut's threshold: the m-th largest of the positive distances, else 0 (in tie-heavy
    fronts most distances are 0)."""
    return -np.partition(-positive, m - 1)[m - 1] if positive.size >= m else 0.0


@njit(cache=True)
def _draw_ties(tied, need, key, generation) -> np.ndarray:
    """``need`` of the ``tied`` drawn at random, by a partial Fisher-Yates shuffle in place."""
    state = stream_state(key, generation, S_CUT)
    for t in range(need):
        pick = t + bounded(draw(state, t), tied.size - t)
        tied[t], tied[pick] = tied[pick], tied[t]
    return tied[:need]


@njit(cache=True)
def _last_front(sizes, k):
    """(the front that fills k, given the size of each front; how many the fronts before it
    hold)."""
    last, filled = 0, 0
    while filled + sizes[last] < k:
        filled += sizes[last]
        last += 1
    return last, filled
