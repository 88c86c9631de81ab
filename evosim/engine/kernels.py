"""The Numba kernel set of the generation loops: scores, selection, crossover, bookkeeping.

Nothing here knows a task: evaluation and mutation are the task's kernels
(``evosim.tasks.protocol``). ``loops.py`` calls these through the name ``K``; ``reference.py`` is
the NumPy kernel set with the same names and signatures. Random numbers come from ``counter_rng``
streams keyed by (run key, generation, stream id), so both sets draw exactly the same numbers.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uintp

from evosim.counter_rng import Stream, below, bounded, draw, mix64, stream_state
from evosim.engine.nsga2 import (binary_tournament, dominance_tournament,  # noqa: F401
                                 select_per_check as nsga2_select_per_check,
                                 select_sorted as nsga2_select, sweep_order)  # (the kernel set)
from evosim.engine.params import ELITIST
from evosim.engine.sorting import float_keys, radix_sort

S_PERM, S_XO_DO, S_XO_CUT = Stream.PERM.value, Stream.XO_DO.value, Stream.XO_CUT.value
S_TOURN, S_RANK, S_NEUTRAL = Stream.TOURNAMENT.value, Stream.RANK.value, Stream.NEUTRAL.value
# Sort keys are kept short (radix passes cost time): rank keys are 16 bits of (SCORE_MAX - score)
# above 24 random bits; mating keys are 24 random bits. The rare equal random keys fall back to
# index order (about 0.03 pairs a generation for N = 1000): no measurable bias.
SCORE_MAX, TIE_BITS, RANDOM_BITS = 2**16 - 1, np.uint64(24), 24
RANDOM_DROP = np.uint64(64 - RANDOM_BITS)


@njit(cache=True)
def stable_order(keys) -> np.ndarray:
    """Indices that sort uint64 ``keys`` ascending, ties in index order (a radix sort over the
    bytes that vary: see ``evosim.engine.sorting``)."""
    return radix_sort(keys, np.arange(keys.size))


@njit(cache=True)
def rank_by_score(scores, key, generation) -> np.ndarray:
    """Indices from best to worst score, ties in random order.

    Random tie-breaking matters: with ties kept in index order the elite of a fitness plateau never
    changes, and neutral drift (how populations cross fitness plateaus) stops. One exception: slot 0,
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
def random_order(n, key, generation) -> np.ndarray:
    """A random order of n indices, the incumbent included: the ranking of a generation without
    selection (vg0), under which survival is random."""
    state = stream_state(key, generation, S_NEUTRAL)
    keys = np.empty(n, dtype=np.uint64)
    for i in range(n):
        keys[i] = draw(state, i) >> RANDOM_DROP
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
def copy_rows(source, rows, target) -> None:
    """target[j] = source[rows[j]], by element loops (row slicing costs more than the copy). The
    row index is read once, as unsigned: otherwise it is re-read per element (target might alias
    rows) and checked for wraparound."""
    for j in range(rows.size):
        row = uintp(rows[j])
        for i in range(source.shape[1]):
            target[j, i] = source[row, i]


@njit(cache=True)
def inherit_unchanged(children, parents, sources, parent_correct, parent_cost, correct,
                      cost) -> np.ndarray:
    """Children equal to the parent they were copied from (``parents[sources[j]]``) take its
    rows correct and cost; returns the indices of the others, which need evaluating. Exact
    (evaluation is deterministic); about half the children are copies (the elite, offspring
    that no crossover or mutation changed)."""
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
    return changed[:k]


@njit(cache=True)
def scatter(rows, row_correct, row_cost, correct, cost) -> None:
    """correct[rows[t]] = row_correct[t], and the same for cost."""
    for t in range(rows.size):
        correct[rows[t]] = row_correct[t]
        cost[rows[t]] = row_cost[t]


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
    """Write generation b's statistics row (``out``: a ``params.Statistics``): the best's score,
    cost and genome, and the sums."""
    out.score_best[b] = correct[best]
    out.score_sum[b] = correct.sum()
    out.cost_best[b] = cost[best]
    out.cost_sum[b] = cost.sum()
    for i in range(genomes.shape[1]):
        out.best_genomes[b, i] = genomes[best, i]


@njit(cache=True)
def behavioural_diversity(words, n_rows, out) -> None:
    """out[i] = mean normalised Hamming distance of individual i's answers (``words[i]``, bit r
    of word r // 64 for row r) to every other individual's (Clune lab code's behaviour
    diversity): the distance is summed as integers from each row's count of "yes" answers, then
    divided once."""
    n = words.shape[0]
    ones = np.zeros(n_rows, dtype=np.int64)
    for i in range(n):
        for r in range(n_rows):
            ones[r] += (words[i, r >> 6] >> np.uint64(r & 63)) & np.uint64(1)
    scale = 1.0 / (n_rows * max(n - 1, 1))
    for i in range(n):
        total = 0
        for r in range(n_rows):
            bit = (words[i, r >> 6] >> np.uint64(r & 63)) & np.uint64(1)
            total += n - ones[r] if bit else ones[r]
        out[i] = total * scale


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

