"""The Numba kernel set of the generation loops: evaluation, scores, selection, variation.

``loops.py`` calls these through the name ``K``; ``reference.py`` is the NumPy kernel set with the
same names and signatures. Random numbers come from ``counter_rng`` streams keyed by (run key,
generation, stream id), so both sets draw exactly the same numbers.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uintp

from evosim.costs import NONE, connection_costs, correct_and_costs
from evosim.counter_rng import below, bounded, draw, mix64, stream_state
from evosim.engine.nsga2 import (binary_tournament, select_sorted as nsga2_select,  # noqa: F401
                                 sweep_order)  # (the kernel set)
from evosim.engine.sorting import float_keys, radix_sort
from evosim.tasks.logic import count_correct
from evosim.tasks.retina import mutate_retina, retina_correct, retina_costs

# Stream ids: one independent stream per random decision of a generation.
S_PERM, S_XO_DO, S_XO_CUT, S_MUT_DO, S_MUT_POS, S_MUT_VAL, S_TOURN, S_RANK = 1, 2, 3, 4, 5, 6, 7, 8
S_MOVE = 11  # streams 11, 12, 13: the moves of evolved gate positions, as S_MUT_DO .. S_MUT_VAL
ELITIST, TOURNAMENT, NSGA2 = 0, 1, 2
# Layout of the int64 ``params`` and float64 ``fparams`` arrays every loop receives.
P_ELITE, P_SCHEME, P_TOURNAMENT, P_XO, P_MUT, P_INPUTS, P_ROWS, P_COST, P_TASK, P_ACTIVATION, \
    P_ADD, P_DELETE, P_BIAS, P_UNIQUE, P_GATES, P_MOVE = range(16)
F_COST_WEIGHT, F_WEIGHT_SCALE = range(2)
LOGIC, RETINA = 0, 1
# Sort keys are kept short (radix passes cost time): rank keys are 16 bits of (SCORE_MAX - score)
# above 24 random bits; mating keys are 24 random bits. The rare equal random keys fall back to
# index order (about 0.03 pairs a generation for N = 1000): no measurable bias.
SCORE_MAX, TIE_BITS, RANDOM_BITS = 2**16 - 1, np.uint64(24), 24
RANDOM_DROP = np.uint64(64 - RANDOM_BITS)


@njit(cache=True)
def stable_order(keys) -> np.ndarray:
    """Indices that sort uint64 ``keys`` ascending, ties in index order (a radix sort: several
    times faster than Numba's np.sort for the ~1000 keys of a generation)."""
    return radix_sort(keys, np.arange(keys.size))


@njit(cache=True)
def rank_by_score(scores, key, generation) -> np.ndarray:
    """Indices from best to worst score, ties in random order.

    Random tie-breaking matters: with ties kept in index order the elite of a fitness plateau never
    changes, and neutral drift (how these circuits cross plateaus) stops. One exception: slot 0,
    the incumbent best (elites pass unchanged into slot 0), wins its ties, so the recorded best
    changes only when something better appears. Scores are integers in [0, 2**16) (rows correct).
    """
    state = stream_state(key, generation, S_RANK)
    keys = np.empty(scores.size, dtype=np.uint64)
    for i in range(scores.size):
        tie = (draw(state, i) >> RANDOM_DROP) if i else np.uint64(0)
        keys[i] = (np.uint64(SCORE_MAX - scores[i]) << TIE_BITS) | tie
    return stable_order(keys)


@njit(cache=True)
def select_parents(order, n_elite, scheme, tournament_size, key, generation, parents) -> None:
    """Fill parents[j]: the index whose genome slot j of the next generation starts from.

    Slots 0 .. n_elite - 1 take the elite in rank order (they pass unchanged). Elitist (K&A): the
    middle keep their place and the worst n_elite slots take copies of the elite. Tournament: each
    non-elite slot takes the best-ranked of ``tournament_size`` uniform picks.
    """
    n = order.size
    for j in range(n_elite):
        parents[j] = order[j]
    if scheme == ELITIST:
        for j in range(n_elite, n - n_elite):
            parents[j] = order[j]
        for j in range(n_elite):
            parents[n - n_elite + j] = order[j]
    else:
        rank = np.empty(n, dtype=np.int64)
        for i in range(n):
            rank[order[i]] = i
        state = stream_state(key, generation, S_TOURN)
        for j in range(n_elite, n):
            best = n
            for t in range(tournament_size):
                pick = bounded(draw(state, (j - n_elite) * tournament_size + t), n)
                best = min(best, rank[pick])
            parents[j] = order[best]


@njit(cache=True)
def crossover(pop, n_elite, key, generation, xo_thresh) -> None:
    """One-point crossover on random pairs of the non-elite slots, each pair with probability p."""
    m = pop.shape[0] - n_elite
    length = pop.shape[1]
    s_perm = stream_state(key, generation, S_PERM)
    keys = np.empty(m, dtype=np.uint64)
    for j in range(m):
        keys[j] = draw(s_perm, j) >> RANDOM_DROP
    perm = stable_order(keys)
    s_do = stream_state(key, generation, S_XO_DO)
    s_cut = stream_state(key, generation, S_XO_CUT)
    for k in range(m // 2):
        if below(draw(s_do, k), xo_thresh):
            a, b = n_elite + perm[2 * k], n_elite + perm[2 * k + 1]
            for i in range(1 + bounded(draw(s_cut, k), length - 1), length):
                pop[a, i], pop[b, i] = pop[b, i], pop[a, i]


@njit(cache=True)
def mutate_rewire(pop, n_elite, key, generation, mut_thresh, gene_low, gene_size, first, stop,
                  stream) -> None:
    """With probability p per non-elite genome, set one random gene of ``first .. stop - 1`` to a
    different valid value (draws from streams ``stream`` .. ``stream + 2``)."""
    s_do = stream_state(key, generation, stream)
    s_pos = stream_state(key, generation, stream + 1)
    s_val = stream_state(key, generation, stream + 2)
    for j in range(pop.shape[0] - n_elite):
        if below(draw(s_do, j), mut_thresh):
            slot = n_elite + j
            pos = first + bounded(draw(s_pos, j), stop - first)
            r = bounded(draw(s_val, j), gene_size[pos] - 1)
            current = pop[slot, pos] - gene_low[pos]
            pop[slot, pos] = gene_low[pos] + r + (1 if r >= current else 0)


@njit(cache=True)
def vary(pop, n_fixed, params, fparams, key, generation, consts) -> None:
    """Crossover then the task's mutation of every genome but the first ``n_fixed``."""
    crossover(pop, n_fixed, key, generation, np.uint64(params[P_XO]))
    if params[P_TASK] == LOGIC:
        wiring = 2 * params[P_GATES] + 1
        mutate_rewire(pop, n_fixed, key, generation, np.uint64(params[P_MUT]), consts[2],
                      consts[3], 0, wiring, S_MUT_DO)
        if pop.shape[1] > wiring:  # gate positions (the evolved layout) move by their own rate
            mutate_rewire(pop, n_fixed, key, generation, np.uint64(params[P_MOVE]), consts[2],
                          consts[3], wiring, pop.shape[1], S_MOVE)
    else:
        mutate_retina(pop, n_fixed, key, generation, np.uint64(params[P_ADD]),
                      np.uint64(params[P_DELETE]), fparams[F_WEIGHT_SCALE],
                      np.uint64(params[P_BIAS]), pop.shape[1] - consts[6][1:].sum())


@njit(cache=True)
def next_generation(genomes, spare, order, params, fparams, key, generation, consts,
                    parents) -> None:
    """Select from ``genomes`` (ranked by ``order``) into ``spare``, then vary ``spare`` in place;
    ``parents[j]`` is the genome slot j was copied from."""
    n_elite = params[P_ELITE]
    select_parents(order, n_elite, params[P_SCHEME], params[P_TOURNAMENT], key, generation,
                   parents)
    copy_rows(genomes, parents, spare)
    vary(spare, n_elite, params, fparams, key, generation, consts)


@njit(cache=True)
def copy_rows(source, rows, target) -> None:
    """target[j] = source[rows[j]], by element loops (row slicing costs more than the copy). The
    row index is read once, as unsigned: re-read per element (target might alias rows) and
    checked for wraparound, the copy ran four times slower."""
    for j in range(rows.size):
        row = uintp(rows[j])
        for i in range(source.shape[1]):
            target[j, i] = source[row, i]


@njit(cache=True)
def evaluate(genomes, target, consts, params, correct, cost) -> None:
    """Rows correct and connection cost of every individual, by the task's kernels. ``consts`` =
    (input_words, row_mask, gene_low, gene_size, sq_dist, patterns, layers): what the tasks need
    (each task fills the parts it does not use with empty arrays)."""
    input_words, row_mask, _, _, sq_dist, patterns, layers = consts
    if params[P_TASK] == LOGIC:
        n_inputs, n_gates = params[P_INPUTS], params[P_GATES]
        if params[P_COST] != NONE and row_mask.size == 1 and n_gates <= 64:
            correct_and_costs(genomes, n_inputs, n_gates, input_words, target, row_mask,
                              params[P_COST], sq_dist, correct, cost)
            return
        count_correct(genomes, n_inputs, n_gates, input_words, target, row_mask, correct)
        connection_costs(genomes, n_inputs, n_gates, params[P_COST], sq_dist, cost)
    else:
        retina_correct(genomes, patterns, layers, params[P_ACTIVATION], target, correct)
        retina_costs(genomes, layers, params[P_COST], sq_dist, cost)


@njit(cache=True)
def evaluate_changed(children, parents, sources, target, consts, params, parent_correct,
                     parent_cost, correct, cost) -> None:
    """``evaluate`` for ``children``, each copied from ``parents[sources[j]]`` before variation:
    only the children that variation changed are evaluated, the others inherit their parent's
    values. Exact (evaluation is deterministic); about half the children are copies (the elite,
    offspring that no crossover or mutation changed). Circuits of one word of rows evaluate in
    about the time the comparison takes, so they are all evaluated."""
    if params[P_TASK] == LOGIC and consts[1].size == 1:
        evaluate(children, target, consts, params, correct, cost)
        return
    m, length = children.shape
    changed = np.empty(m, dtype=np.int64)
    k = 0
    for j in range(m):
        p = uintp(sources[j])
        diff = 0
        for i in range(length):  # no early exit: the loop vectorises
            diff |= children[j, i] ^ parents[p, i]
        if diff == 0:
            correct[j] = parent_correct[p]
            cost[j] = parent_cost[p]
        else:
            changed[k] = j
            k += 1
    batch = np.empty((k, length), dtype=children.dtype)
    copy_rows(children, changed[:k], batch)
    batch_correct = np.empty(k, dtype=np.int64)
    batch_cost = np.empty(k, dtype=np.float64)
    evaluate(batch, target, consts, params, batch_correct, batch_cost)
    for t in range(k):
        correct[changed[t]] = batch_correct[t]
        cost[changed[t]] = batch_cost[t]


@njit(cache=True)
def scores(correct, cost, n_rows, weight) -> np.ndarray:
    """Integer selection scores, higher is better: the rows correct, or with a cost penalty the
    dense rank of ``correct / n_rows - weight * cost`` (so equal fitness means equal score)."""
    if weight == 0.0:
        return correct.copy()
    fitness = correct / n_rows - weight * cost
    order = radix_sort(float_keys(fitness), np.arange(fitness.size))
    out = np.empty(correct.size, dtype=np.int64)
    level = 0
    for k in range(order.size):
        if k and fitness[order[k]] != fitness[order[k - 1]]:
            level += 1
        out[order[k]] = level
    return out


@njit(cache=True)
def best_of(correct, cost) -> int:
    """The best under multiple objectives (Clune's definition): most rows correct, then the lowest
    cost, then the lowest index."""
    best = 0
    for i in range(1, correct.size):
        if correct[i] > correct[best] or (correct[i] == correct[best] and cost[i] < cost[best]):
            best = i
    return best


@njit(cache=True)
def record(b, best, genomes, correct, cost, out) -> None:
    """Write generation b's statistics row: the best's score, cost and genome, and the sums."""
    score_best, score_sum, cost_best, cost_sum, _, best_genomes = out
    score_best[b] = correct[best]
    score_sum[b] = correct.sum()
    cost_best[b] = cost[best]
    cost_sum[b] = cost.sum()
    for i in range(genomes.shape[1]):
        best_genomes[b, i] = genomes[best, i]


@njit(cache=True)
def duplicates(genomes) -> np.ndarray:
    """bool[N]: True for every genome equal to one with a lower index (the first copy stays)."""
    n, length = genomes.shape
    hashes = np.empty(n, dtype=np.uint64)
    for i in range(n):
        h = np.uint64(length)
        for j in range(length):
            h = mix64(h ^ np.uint64(genomes[i, j] & 0xFFFF))
        hashes[i] = h
    order = stable_order(hashes)
    dup = np.zeros(n, dtype=np.bool_)
    start = 0
    while start < n:  # groups of equal hash, indices ascending: compare with earlier members
        stop = start + 1
        while stop < n and hashes[order[stop]] == hashes[order[start]]:
            stop += 1
        for a in range(start + 1, stop):
            for b in range(start, a):
                if not dup[order[b]]:
                    same = True
                    for j in range(length):
                        if genomes[order[a], j] != genomes[order[b], j]:
                            same = False
                            break
                    if same:
                        dup[order[a]] = True
                        break
        start = stop
    return dup

