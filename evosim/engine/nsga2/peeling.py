"""P&NSGA as Clune lab code orders it (``cost.coins = "per-check"``): the fronts are peeled round
by round, and every check of whether one individual dominates another draws a fresh coin, as
sferes2's sort does when it asks its stochastic dominance of every pair in every round; the mating
tournament asks the same stochastic dominance (``dominance_tournament``).

Only the law of the checks matters, and with one objective counted by a coin (the connection cost;
the others are counted always, or never) it depends on counts alone. Between two individuals the
relation "j dominates i" is one of four (``_relations``): SURE (whatever the coin), NEVER, UNCOUNTED
(j is better on the other objectives and worse on the coin's: j dominates when the coin leaves it
out) and COUNTED (j is equal on the others and better on the coin's: j dominates when the coin
counts it). An individual is non-dominated in a round when no SURE dominator is left and every
other remaining check fails; the coins are drawn one at a time until one check succeeds. Every
round ranks at least the best remaining individual on the always-counted objectives (then on the
coin's), which nothing can dominate.

The counts come from the relation of every pair, kept up to date as fronts leave (O(N^2) a
generation), or, for two objectives with the first always counted (the engine's case), from one
pass a round over the remaining individuals in sweep order (O(N) a round).

The coins are keyed by (generation, round, individual, check number), so the sort is deterministic
for a run and identical in the NumPy reference.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from evosim.counter_rng import ALWAYS, Stream, below, bounded, draw, stream_state
from evosim.engine.nsga2.pairwise import _select_ranked
from evosim.engine.nsga2.sweep import sweep_order

S_CHECK = Stream.CHECK.value            # the coins of the sort's dominance checks
S_MATING = Stream.MATING.value          # the tournaments' picks, as ``binary_tournament``
S_MATING_CHECK = Stream.MATING_CHECK.value  # the tournaments' dominance coins and ties
NEVER, SURE, UNCOUNTED, COUNTED = 0, 1, 2, 3


@njit(cache=True)
def coin_objective(thresholds) -> int:
    """The objective counted by a coin (0 < p < 1), or -1; more than one is refused."""
    found = -1
    for m in range(thresholds.size):
        if 0 < thresholds[m] < ALWAYS:
            if found >= 0:
                raise ValueError("per-check coins take one objective counted by a coin")
            found = m
    return found


@njit(cache=True, inline="always")
def _relations(wv, a, b, thresholds, s):
    """(how a dominates b, how b dominates a): SURE, NEVER, UNCOUNTED or COUNTED (see the module
    docstring); ``wv`` the objectives times their weights, ``s`` the coin's objective or -1."""
    a_better, b_better = False, False
    for m in range(wv.shape[1]):
        if m != s and thresholds[m] >= ALWAYS:
            a_better |= wv[a, m] > wv[b, m]
            b_better |= wv[a, m] < wv[b, m]
    on_coin = 0.0 if s < 0 else wv[a, s] - wv[b, s]
    return _relation(a_better, b_better, on_coin), _relation(b_better, a_better, -on_coin)


@njit(cache=True, inline="always")
def _relation(better, worse, on_coin) -> int:
    """How one individual dominates another that it is ``better`` / ``worse`` than on the
    always-counted objectives and ``on_coin`` ahead of on the coin's."""
    if worse:
        return NEVER
    if better:
        return SURE if on_coin >= 0.0 else UNCOUNTED
    return COUNTED if on_coin > 0.0 else NEVER


@njit(cache=True)
def peeled_ranks(values, weights, thresholds, needed, key, generation) -> np.ndarray:
    """Pareto front of each individual under per-check coins (0 = non-dominated), peeling fronts
    until at least ``needed`` are ranked (as DEAP's sortNondominated(k)); the rest get -1.

    Parameters
    ----------
    values, weights : float64[N, M], float64[M]
        Raw objectives and their directions (+1 maximise, -1 minimise), as DEAP's.
    thresholds : uint64[M]
        Coin threshold of counting each objective (``counter_rng.threshold(p)``); at most one
        strictly between 0 and ``ALWAYS``.
    needed : int
    key : uint64
    generation : int
        The run key and generation that key the coins.
    """
    if _sweeps(values, thresholds):
        return _swept_peel(values, weights, thresholds[1], needed, key, generation,
                           sweep_order(values, weights, 0))
    return _counted_peel(values, weights, thresholds, needed, key, generation)


@njit(cache=True)
def _sweeps(values, thresholds) -> bool:
    """Whether a sweep gives the counts: two objectives, the first always counted."""
    return values.shape[1] == 2 and thresholds[0] >= ALWAYS


@njit(cache=True)
def _counted_peel(values, weights, thresholds, needed, key, generation) -> np.ndarray:
    """``peeled_ranks`` from every pair's relation, the counts kept as fronts leave."""
    n = values.shape[0]
    wv = values * weights
    s = coin_objective(thresholds)
    threshold = thresholds[s] if s >= 0 else ALWAYS
    counts = np.zeros((n, 4), dtype=np.int64)  # i -> its remaining dominators by relation
    for a in range(n):
        for b in range(a + 1, n):
            ab, ba = _relations(wv, a, b, thresholds, s)
            counts[b, ab] += 1
            counts[a, ba] += 1
    rank = np.full(n, -1, dtype=np.int64)
    remaining = np.arange(n)
    front = np.empty(n, dtype=np.int64)
    state = stream_state(key, generation, S_CHECK)
    alive, ranked, r = n, 0, 0
    while ranked < needed and alive > 0:
        size = 0
        for p in range(alive):
            i = remaining[p]
            if counts[i, SURE] == 0 and _checks_fail(state, threshold, counts[i, UNCOUNTED],
                                                     counts[i, COUNTED], (r * n + i) * n):
                front[size] = i
                rank[i] = r
                size += 1
        kept = 0
        for p in range(alive):  # the front leaves: the others lose it from their counts
            i = remaining[p]
            if rank[i] == r:
                continue
            remaining[kept] = i
            kept += 1
            for f in range(size):
                counts[i, _relations(wv, front[f], i, thresholds, s)[0]] -= 1
        alive, ranked, r = kept, ranked + size, r + 1
    return rank


@njit(cache=True)
def _swept_peel(values, weights, threshold, needed, key, generation, order) -> np.ndarray:
    """``peeled_ranks`` for two objectives, the first always counted, the second with the coin
    ``threshold``; ``order`` lists the individuals best first (``sweep_order``). A round is one
    pass over the remaining individuals in that order: i has a SURE dominator if one with a better
    first value is at least as good on the second; if not, every one with a better first value
    is UNCOUNTED, and every one with an equal first and a better second is COUNTED."""
    n = order.size
    f = np.empty(n)
    s = np.empty(n)
    for q in range(n):
        f[q] = values[order[q], 0] * weights[0]
        s[q] = values[order[q], 1] * weights[1]
    rank = np.full(n, -1, dtype=np.int64)
    remaining = np.arange(n)  # positions in sweep order
    state = stream_state(key, generation, S_CHECK)
    alive, ranked, r = n, 0, 0
    while ranked < needed and alive > 0:
        best_earlier, n_earlier = -np.inf, 0  # the groups of a better first value
        group_f, group_best, in_group = np.nan, -np.inf, 0
        run_s, before_run = np.nan, 0  # the run of equal second values: group members before it
        size = 0
        for p in range(alive):
            q = remaining[p]
            if f[q] != group_f:
                n_earlier += in_group
                best_earlier = max(best_earlier, group_best)
                group_f, group_best, in_group = f[q], s[q], 0
                run_s, before_run = s[q], 0
            elif s[q] != run_s:
                run_s, before_run = s[q], in_group
            in_group += 1
            i = order[q]
            if best_earlier < s[q] and _checks_fail(state, threshold, n_earlier, before_run,
                                                    (r * n + i) * n):
                rank[i] = r
                size += 1
        kept = 0
        for p in range(alive):
            if rank[order[remaining[p]]] < 0:
                remaining[kept] = remaining[p]
                kept += 1
        alive, ranked, r = kept, ranked + size, r + 1
    return rank


@njit(cache=True, inline="always")
def _checks_fail(state, threshold, uncounted, counted, base) -> bool:
    """Whether every remaining check of one individual fails: the UNCOUNTED dominators' coins all
    count the cost, the COUNTED ones' all leave it out; drawn until one check succeeds."""
    for t in range(uncounted):
        if not below(draw(state, base + t), threshold):
            return False
    for t in range(counted):
        if below(draw(state, base + uncounted + t), threshold):
            return False
    return True


@njit(cache=True)
def select_per_check(values, weights, thresholds, k, key, generation, order):
    """``select_sorted`` under per-check coins: the peeled fronts, then DEAP's crowding and the
    cut, each front listed in index order."""
    if _sweeps(values, thresholds):
        rank = _swept_peel(values, weights, thresholds[1], k, key, generation, order)
    else:
        rank = _counted_peel(values, weights, thresholds, k, key, generation)
    return _select_ranked(values, rank, k, key, generation, order)


@njit(cache=True)
def dominance_tournament(values, weights, thresholds, crowd, n_picks, key, generation):
    """n_picks winners of two-way tournaments as sferes2's NSGA-II holds them: the one that
    dominates the other (one fresh coin for the check), else the larger crowding distance, else a
    fair coin. The picks are ``binary_tournament``'s."""
    n = values.shape[0]
    wv = values * weights
    s = coin_objective(thresholds)
    threshold = thresholds[s] if s >= 0 else ALWAYS
    picks = stream_state(key, generation, S_MATING)
    coins = stream_state(key, generation, S_MATING_CHECK)
    winners = np.empty(n_picks, dtype=np.int64)
    for t in range(n_picks):
        a = bounded(draw(picks, 2 * t), n)
        b = bounded(draw(picks, 2 * t + 1), n)
        ab, ba = _relations(wv, a, b, thresholds, s)
        counted = below(draw(coins, 2 * t), threshold)
        if _dominates(ba, counted) or (not _dominates(ab, counted) and (
                crowd[b] > crowd[a] or (crowd[b] == crowd[a]
                                        and draw(coins, 2 * t + 1) >> np.uint64(63) != 0))):
            a = b
        winners[t] = a
    return winners


@njit(cache=True, inline="always")
def _dominates(relation, counted) -> bool:
    """Whether a relation dominates under one coin (``counted``: the coin counts the objective)."""
    return relation == SURE or (relation == UNCOUNTED and not counted) or (
        relation == COUNTED and counted)
