"""NSGA-II (Deb et al. 2002) over objective arrays, with Clune et al.'s stochastic variant.

Conventions follow DEAP so the kernels can be checked against it: ``values[N, M]`` are raw objective
values and ``weights[M]`` their directions (+1 maximise, -1 minimise); dominance compares
``values * weights``; crowding distances sort the raw values, as ``tools.emo.assignCrowdingDist``.

Stochastic dominance (P&NSGA, Clune, Mouret & Lipson 2013): objective m takes part in a comparison
of two individuals with probability p_m (performance 1, connection cost 0.25); with every p_m = 1
this is NSGA-II. Each comparison has its own coin, drawn from a counter-based stream keyed by the
generation, so a sort is deterministic for a run and identical in the NumPy reference.

Two algorithms give the fronts: the textbook pairwise sort (``pairwise``: a dominance matrix,
every pair's coins) and, for two objectives with the first always counted (the engine's case),
a sweep (``sweep``). ``crowding`` holds the crowding distances and the cut they share. The
public pieces compose as DEAP's emo.py: ``ranks`` (the fronts), ``crowding_distance``, ``cut``,
``select`` / ``select_sorted`` (selNSGA2) and ``binary_tournament`` (the mating selection).

Those draw one coin per pair and objective a generation (``cost.coins = "per-pair"``). Clune lab
code draws a fresh coin at every dominance check, in a sort that peels its fronts round by round,
and mates by the same stochastic dominance (``cost.coins = "per-check"``): ``peeling`` holds that
order, ``peeled_ranks``, ``select_per_check`` and ``dominance_tournament``.

Selection (``select``) is DEAP's ``selNSGA2`` except for one thing: among the last front's equal
crowding distances the cut is drawn at random, where DEAP keeps the earlier individuals (parents
before offspring), which would freeze neutral drift among equally good genomes.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from evosim.counter_rng import ALWAYS, Stream, bounded, draw, stream_state
from evosim.engine.nsga2.crowding import crowding_distance, cut  # noqa: F401 (public pieces)
from evosim.engine.nsga2.pairwise import _select_pairwise, dominance_matrix, front_ranks
from evosim.engine.nsga2.peeling import (dominance_tournament, peeled_ranks,  # noqa: F401
                                         select_per_check)
from evosim.engine.nsga2.sweep import _select_by_sweep, sweep_order, sweep_ranks

S_DOMINANCE = Stream.DOMINANCE.value  # stream ids S_DOMINANCE + m: the coins of objective m
S_MATING = Stream.MATING.value
S_CUT = Stream.CUT.value


@njit(cache=True)
def ranks(values, weights, thresholds, needed, key, generation) -> np.ndarray:
    """Front ranks: the sweep for two objectives with the first always counted (every
    individual ranked), else the pairwise sort (peeled until ``needed`` are ranked)."""
    if _sweeps(values, thresholds):
        return sweep_ranks(values, weights, sweep_order(values, weights, 0), thresholds[1], key,
                           generation)
    return front_ranks(dominance_matrix(values, weights, thresholds, key, generation), needed)


@njit(cache=True)
def _sweeps(values, thresholds) -> bool:
    """Whether the sweep ranks these objectives: two, the first always counted."""
    return values.shape[1] == 2 and thresholds[0] >= ALWAYS


@njit(cache=True)
def select(values, weights, thresholds, k, key, generation):
    """NSGA-II environmental selection of k individuals; see ``select_sorted``."""
    return select_sorted(values, weights, thresholds, k, key, generation,
                         sweep_order(values, weights, 0))


@njit(cache=True)
def select_sorted(values, weights, thresholds, k, key, generation, order):
    """NSGA-II environmental selection of k individuals (DEAP's selNSGA2, random ties at the cut),
    given ``order`` = ``sweep_order(values, weights, ...)``.

    Fronts list their members in reverse sweep order (worst first) under the sweep, in index
    order under the pairwise sort; that order decides ties within crowding distances, as DEAP's
    front order does. Returns (chosen indices in sweep order, rank of every individual (-1 if
    unranked), crowding distance of every individual of the fronts that fill the k (else 0),
    size of the first front).
    """
    if _sweeps(values, thresholds):
        return _select_by_sweep(values, weights, thresholds[1], k, key, generation, order)
    return _select_pairwise(values, weights, thresholds, k, key, generation, order)


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
