"""The vectorised NumPy reference of ``kernels.py``: the same draws, the same results, bit for bit."""
from __future__ import annotations

import numpy as np

from evosim import counter_rng as crng
from evosim.engine.kernels import (ELITIST, S_MUT_DO, S_MUT_POS, S_MUT_VAL, S_PERM, S_RANK,
                                   S_TOURN, S_XO_CUT, S_XO_DO, SCORE_MAX, TIE_BITS, RANDOM_DROP)


def _draws(key, generation: int, stream: int, n: int) -> np.ndarray:
    return crng.draw_array(crng.stream_state_array(key, generation, stream), np.arange(n))


def rank_by_score(scores: np.ndarray, key, generation) -> np.ndarray:
    tie = _draws(key, generation, S_RANK, scores.size) >> RANDOM_DROP
    tie[0] = 0  # the incumbent best wins its ties
    keys = (SCORE_MAX - scores).astype(np.uint64) << TIE_BITS | tie
    return np.argsort(keys, kind="stable")


def select_parents(order, n_elite, scheme, tournament_size, key, generation) -> np.ndarray:
    n = order.size
    if scheme == ELITIST:
        return np.concatenate([order[: n - n_elite], order[:n_elite]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    picks = crng.bounded_array(_draws(key, generation, S_TOURN, (n - n_elite) * tournament_size), n)
    best = rank[picks.reshape(n - n_elite, tournament_size)].min(axis=1)
    return np.concatenate([order[:n_elite], order[best]])


def crossover(pop, n_elite, key, generation, xo_thresh) -> None:
    m, length = pop.shape[0] - n_elite, pop.shape[1]
    perm = np.argsort(_draws(key, generation, S_PERM, m) >> RANDOM_DROP, kind="stable")
    pairs = m // 2
    a, b = n_elite + perm[0: 2 * pairs: 2], n_elite + perm[1: 2 * pairs: 2]
    do = crng.below_array(_draws(key, generation, S_XO_DO, pairs), xo_thresh)
    cut = 1 + crng.bounded_array(_draws(key, generation, S_XO_CUT, pairs), length - 1)
    swap = do[:, None] & (np.arange(length)[None, :] >= cut[:, None])
    ga, gb = pop[a], pop[b]
    pop[a], pop[b] = np.where(swap, gb, ga), np.where(swap, ga, gb)


def mutate_rewire(pop, n_elite, key, generation, mut_thresh, gene_low, gene_size) -> None:
    m, length = pop.shape[0] - n_elite, pop.shape[1]
    do = crng.below_array(_draws(key, generation, S_MUT_DO, m), mut_thresh)
    slots = n_elite + np.flatnonzero(do)
    pos = crng.bounded_array(_draws(key, generation, S_MUT_POS, m), length)[do]
    r = crng.bounded_array(_draws(key, generation, S_MUT_VAL, m)[do], gene_size[pos] - 1)
    current = pop[slots, pos] - gene_low[pos]
    pop[slots, pos] = gene_low[pos] + r + (r >= current)


def next_generation(genomes, spare, order, params, key, generation, gene_low, gene_size) -> None:
    n_elite, scheme, tournament_size = int(params[0]), int(params[1]), int(params[2])
    xo_thresh, mut_thresh = np.uint64(params[3]), np.uint64(params[4])
    spare[:] = genomes[select_parents(order, n_elite, scheme, tournament_size, key, generation)]
    crossover(spare, n_elite, key, generation, xo_thresh)
    mutate_rewire(spare, n_elite, key, generation, mut_thresh, gene_low, gene_size)
