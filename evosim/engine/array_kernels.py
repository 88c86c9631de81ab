"""The engine's selection and crossover kernels as array code over a batch of runs.

Every array has a leading run axis (one row per run: ``scores[R, N]``, ``pop[R, N, L]``) and
``keys`` is uint64[R, 1], the runs' keys; the arrays may be NumPy or CuPy (``evosim.xp``), so
the same code runs on the CPU and on a GPU. The NumPy kernel set (``reference``) is these
kernels for one run (R = 1), which the tests compare with the Numba kernels draw for draw; the
batched engine (``evosim.engine.batched``) calls them for many.

Sorting: Numba's kernels sort stably (equal keys in index order). Here every sort key carries
its index in its low bits, so keys are unique and any sort, on any device, gives that order.
"""
from __future__ import annotations

import numpy as np

from evosim import counter_rng as crng
from evosim.engine.kernels import (RANDOM_DROP, S_NEUTRAL, S_PERM, S_RANK, S_TOURN, S_XO_CUT,
                                   S_XO_DO, SCORE_MAX, TIE_BITS)
from evosim.engine.params import ELITIST
from evosim.xp import array_module

INDEX_BITS = np.uint64(18)  # state rows are at most 2 * 65535 < 2**18; keys are below 2**40


def draws(keys, generation: int, stream: int, n: int):
    """The first n draws of a stream, for every run: uint64[R, n]."""
    xp = array_module(keys)
    return crng.draw_array(crng.stream_state_array(keys, generation, stream),
                           xp.arange(n, dtype=np.uint64))


def order_of(keys):
    """Indices that sort every row of uint64 ``keys`` (below 2**46) ascending, equal keys in
    index order."""
    xp = array_module(keys)
    index = xp.arange(keys.shape[-1], dtype=np.uint64)
    return xp.argsort((keys << INDEX_BITS) | index, axis=-1)


def rank_by_score(scores, keys, generation: int):
    """Every run's indices from best to worst score, ties in random order but slot 0 (the
    incumbent best) winning its own (``kernels.rank_by_score``)."""
    tie = draws(keys, generation, S_RANK, scores.shape[-1]) >> RANDOM_DROP
    tie[:, 0] = 0
    return order_of((SCORE_MAX - scores).astype(np.uint64) << TIE_BITS | tie)


def best_of(correct, cost):
    """Every run's best under multiple objectives (``kernels.best_of``): most rows correct, then
    the lowest cost, then the lowest index."""
    xp = array_module(correct)
    top = correct == correct.max(axis=-1, keepdims=True)
    lowest = xp.where(top, cost, xp.inf).min(axis=-1, keepdims=True)
    return xp.argmax((top & (cost == lowest)).astype(np.int8), axis=-1)  # the first such


def random_order(keys, n: int, generation: int):
    """A random order of n indices per run: a generation without selection (vg0)."""
    return order_of(draws(keys, generation, S_NEUTRAL, n) >> RANDOM_DROP)


def scores(correct, cost, n_rows: int, weight):
    """Integer scores whose order is that of the fitness: rows correct, or under a cost penalty
    (``weight``: a number, or one per run [R, 1]) the dense rank of correct / n_rows - weight *
    cost within each run."""
    xp = array_module(correct)
    if not bool((xp.asarray(weight) != 0).any()):
        return correct.copy()
    fitness = correct / n_rows - weight * cost
    order = xp.argsort(fitness, axis=-1)
    ranked = xp.take_along_axis(fitness, order, axis=-1)
    new = xp.zeros(fitness.shape, dtype=np.int64)
    new[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    dense = xp.empty_like(order)
    dense[xp.arange(len(order))[:, None], order] = xp.cumsum(new, axis=-1)
    return dense


def select_parents(order, n_elite: int, scheme: int, tournament_size: int, keys,
                   generation: int):
    """parents[r, j]: the slot of run r that slot j of its next generation starts from
    (``kernels.select_parents``: the elite first, then K&A's truncation or tournaments)."""
    xp = array_module(order)
    runs, n = order.shape
    if scheme == ELITIST:
        return xp.concatenate([order[:, : n - n_elite], order[:, :n_elite]], axis=1)
    rank = xp.empty_like(order)
    rank[xp.arange(runs)[:, None], order] = xp.arange(n)
    picks = crng.bounded_array(draws(keys, generation, S_TOURN,
                                     (n - n_elite) * tournament_size), n)
    best = xp.take_along_axis(rank, picks, axis=1).reshape(runs, n - n_elite,
                                                           tournament_size).min(axis=2)
    return xp.concatenate([order[:, :n_elite], xp.take_along_axis(order, best, axis=1)], axis=1)


def gather_rows(pop, rows):
    """pop[r, rows[r, j]] for every run r: [R, len(rows[r]), L]."""
    xp = array_module(pop)
    return pop[xp.arange(len(pop))[:, None], rows]


def crossover(pop, n_elite: int, keys, generation: int, xo_thresh) -> None:
    """One-point crossover of random pairs of the non-elite slots, in place; each pair crosses
    with the coin of ``xo_thresh`` (a threshold, or one per run [R, 1])."""
    xp = array_module(pop)
    runs, m, length = pop.shape[0], pop.shape[1] - n_elite, pop.shape[2]
    perm = order_of(draws(keys, generation, S_PERM, m) >> RANDOM_DROP)
    pairs = m // 2
    a, b = n_elite + perm[:, 0: 2 * pairs: 2], n_elite + perm[:, 1: 2 * pairs: 2]
    do = crng.below_array(draws(keys, generation, S_XO_DO, pairs), xo_thresh)
    cut = 1 + crng.bounded_array(draws(keys, generation, S_XO_CUT, pairs), length - 1)
    swap = do[:, :, None] & (xp.arange(length) >= cut[:, :, None])
    rows = xp.arange(runs)[:, None]
    ga, gb = pop[rows, a], pop[rows, b]
    pop[rows, a], pop[rows, b] = xp.where(swap, gb, ga), xp.where(swap, ga, gb)
