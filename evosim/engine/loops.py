"""Generation loops for a block of generations, written once for both backends.

Each loop calls its kernels through the global name ``K``. The Numba loops are the functions below
compiled with ``K`` = ``kernels`` (so a whole block runs without returning to Python); the NumPy
loops are the very same code objects run with ``K`` = ``reference``. The backends can therefore
differ only in their kernels, which the tests compare one by one.

Every loop leaves the engine state of the generation after the block in its first argument (the
population; for NSGA-II the survivors and their offspring) and writes one statistics row per
generation into ``out`` = (score_best, score_sum, cost_best, cost_sum, front0,
best_genomes).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from evosim.engine import kernels, reference
from evosim.engine.kernels import F_COST_WEIGHT, P_ROWS, P_UNIQUE
from evosim.engine.rebind import rebind

K = kernels
OBJECTIVE_WEIGHTS = np.array([1.0, -1.0])  # performance up, connection cost down


def truncation_generations(genomes, spare, gen0, targets, consts, params, fparams, thresholds,
                           key, out) -> None:
    """Elitist (K&A) or tournament selection on rows correct, or on a cost-penalised fitness.
    Under an unchanged goal only the genomes that variation changed are evaluated."""
    n = genomes.shape[0]
    correct, last_correct = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    cost, last_cost = np.empty(n, dtype=np.float64), np.empty(n, dtype=np.float64)
    parents = np.empty(n, dtype=np.int64)
    current, other = genomes, spare
    for b in range(targets.shape[0]):
        generation = gen0 + b
        if b > 0 and (targets[b] == targets[b - 1]).all():  # other: the last generation
            K.evaluate_changed(current, other, parents, targets[b], consts, params, last_correct,
                               last_cost, correct, cost)
        else:
            K.evaluate(current, targets[b], consts, params, correct, cost)
        order = K.rank_by_score(K.scores(correct, cost, params[P_ROWS], fparams[F_COST_WEIGHT]),
                                key, generation)
        K.record(b, order[0], current, correct, cost, out)
        out[4][b] = 0
        K.next_generation(current, other, order, params, fparams, key, generation, consts,
                          parents)
        current, other = other, current
        correct, last_correct = last_correct, correct
        cost, last_cost = last_cost, cost
    if targets.shape[0] % 2 == 1:
        genomes[:] = current


def nsga2_generations(merged, spare, gen0, targets, consts, params, fparams, thresholds,
                      key, out) -> None:
    """NSGA-II (mu + lambda) as Deb et al.: the state is 2N genomes, the previous generation's
    survivors (best first) followed by their N offspring. Each generation keeps the best N of the
    2N (the generation's population, recorded), breeds N offspring from them by binary tournaments
    on the front ranks and crowding distances of that same sort, and varies them.

    Objectives: performance (max), connection cost (min), each counted in a comparison with
    probability thresholds[m] (P&NSGA). Survivors keep their evaluation until the goal changes,
    and so do offspring that variation left equal to their parent. With selection.unique, duplicate genomes are kept only if nothing else fills the population."""
    n = merged.shape[0] // 2
    correct = np.empty(2 * n, dtype=np.int64)
    cost = np.empty(2 * n, dtype=np.float64)
    values = np.empty((2, 2 * n), dtype=np.float64).T  # columns contiguous: sorted by column
    winners = np.empty(n, dtype=np.int64)  # the survivor each offspring was copied from
    current, other = merged, spare
    for b in range(targets.shape[0]):
        generation = gen0 + b
        fresh = n if b > 0 and (targets[b] == targets[b - 1]).all() else 0
        if fresh:
            K.evaluate_changed(current[n:], current[:n], winners, targets[b], consts, params,
                               correct[:n], cost[:n], correct[n:], cost[n:])
        else:
            K.evaluate(current, targets[b], consts, params, correct, cost)
        values[:, 0] = correct  # rows correct: integers sort in fewer passes than fractions
        values[:, 1] = cost
        if params[P_UNIQUE]:  # copies sink below every real solution (Clune et al.'s option)
            worst_cost = cost.max() + 1.0
            for i in np.flatnonzero(K.duplicates(current)):
                values[i, 0] = -1.0
                values[i, 1] = worst_cost
            fresh = 0  # sunk survivors are out of order
        order = K.sweep_order(values, OBJECTIVE_WEIGHTS, fresh)
        chosen, rank, crowd, front0 = K.nsga2_select(values, OBJECTIVE_WEIGHTS, thresholds, n,
                                                     key, generation, order)
        K.copy_rows(current, chosen, other[:n])
        correct[:n] = correct[chosen]
        cost[:n] = cost[chosen]
        K.record(b, K.best_of(correct[:n], cost[:n]), other[:n], correct[:n], cost[:n], out)
        out[4][b] = front0
        winners = K.binary_tournament(rank[chosen], crowd[chosen], n, key, generation)
        K.copy_rows(other[:n], winners, other[n:])
        K.vary(other[n:], 0, params, fparams, key, generation, consts)
        current, other = other, current
    if targets.shape[0] % 2 == 1:
        merged[:] = current


LOOPS = {
    "numba": {"truncation": njit(cache=True)(truncation_generations),
              "nsga2": njit(cache=True)(nsga2_generations)},
    "numpy": {"truncation": rebind(truncation_generations, K=reference),
              "nsga2": rebind(nsga2_generations, K=reference)},
}
