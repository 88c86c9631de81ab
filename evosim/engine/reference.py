"""The NumPy kernel set: the vectorised reference of ``kernels.py``, with the same names and
signatures, the same draws and the same results, bit for bit. Selection and crossover are the
batched array kernels (``array_kernels``) run for one run."""
from __future__ import annotations

import numpy as np

from evosim import counter_rng as crng
from evosim.engine import nsga2
from evosim.engine.nsga2 import peeling
from evosim.engine import array_kernels
from evosim.engine.sorting import float_keys_numpy

def best_of(correct, cost) -> int:
    """Most rows correct, then the lowest cost, then the lowest index."""
    return int(array_kernels.best_of(correct[None], cost[None])[0])


def record(b, best, genomes, correct, cost, out) -> None:
    out.score_best[b], out.score_sum[b] = correct[best], correct.sum()
    # summed in index order, as the kernel's loop does (NumPy's pairwise sum rounds otherwise)
    out.cost_best[b], out.cost_sum[b] = cost[best], np.cumsum(cost)[-1] if cost.size else 0.0
    out.best_genomes[b] = genomes[best]


def _draws(key, generation: int, stream: int, n: int) -> np.ndarray:
    return crng.draw_array(crng.stream_state_array(key, generation, stream), np.arange(n))


def rank_by_score(scores: np.ndarray, key, generation) -> np.ndarray:
    return array_kernels.rank_by_score(scores[None], crng.key_rows(key), generation)[0]


def behavioural_diversity(words, n_rows, out) -> None:
    bits = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little")[:, :n_rows]
    ones = bits.sum(axis=0).astype(np.int64)
    n = words.shape[0]
    total = np.where(bits == 1, n - ones, ones).sum(axis=1)
    out[:] = total * (1.0 / (n_rows * max(n - 1, 1)))


def random_order(n, key, generation) -> np.ndarray:
    return array_kernels.random_order(crng.key_rows(key), n, generation)[0]


def select_parents(order, n_elite, scheme, tournament_size, key, generation, parents) -> None:
    parents[:] = array_kernels.select_parents(order[None], n_elite, scheme, tournament_size,
                                              crng.key_rows(key), generation)[0]


def crossover(pop, n_elite, key, generation, xo_thresh) -> None:
    array_kernels.crossover(pop[None], n_elite, crng.key_rows(key), generation, xo_thresh)


def copy_rows(source, rows, target) -> None:
    target[:] = source[rows]


def inherit_unchanged(children, parents, sources, parent_correct, parent_cost, correct,
                      cost) -> np.ndarray:
    changed = (children != parents[sources]).any(axis=1)
    correct[:], cost[:] = parent_correct[sources], parent_cost[sources]
    return np.flatnonzero(changed)


def scatter(rows, row_correct, row_cost, correct, cost) -> None:
    correct[rows], cost[rows] = row_correct, row_cost


def scores(correct, cost, n_rows, weight) -> np.ndarray:
    return array_kernels.scores(correct[None], cost[None], n_rows, weight)[0]


# --- NSGA-II -------------------------------------------------------------------------------------

def dominance_matrix(values, weights, thresholds, key, generation) -> np.ndarray:
    n, m_obj = values.shape
    wv = values * weights
    i, j = np.triu_indices(n, 1)
    better = np.zeros(i.size, dtype=bool)
    worse = np.zeros(i.size, dtype=bool)
    for m in range(m_obj):
        considered = np.ones(i.size, dtype=bool)
        if thresholds[m] < nsga2.ALWAYS:
            state = crng.stream_state_array(key, generation, nsga2.S_DOMINANCE + m)
            considered = crng.below_array(crng.draw_array(state, i * n + j), thresholds[m])
        better |= considered & (wv[i, m] > wv[j, m])
        worse |= considered & (wv[i, m] < wv[j, m])
    dom = np.zeros((n, n), dtype=bool)
    dom[i[better & ~worse], j[better & ~worse]] = True
    dom[j[worse & ~better], i[worse & ~better]] = True
    return dom


def sweep_order(values, weights, n_sorted) -> np.ndarray:
    """A full stable sort (the kernel may merge its sorted head; the results are equal)."""
    k0 = ~float_keys_numpy(values[:, 0] * weights[0])
    k1 = ~float_keys_numpy(values[:, 1] * weights[1])
    return np.lexsort((k1, k0))




def sweep_ranks(values, weights, order, threshold, key, generation) -> np.ndarray:
    """The sweep member by member, straight from its definition (the kernel works run by run):
    a member is dominated in the highest front holding a member better on the first objective
    and not worse on the second, or one whose comparison the coins decide for it."""
    n = order.size
    f, s = (values[order] * weights).T
    front_of = np.empty(n, dtype=np.int64)
    in_earlier = np.zeros(n + 1, dtype=np.int64)  # front -> members with a better first value
    best_second = np.full(n + 1, -np.inf)         # front -> their best second value
    in_group = np.zeros(n + 1, dtype=np.int64)    # front -> equal first, better second
    state = crng.stream_state_array(key, generation, nsga2.S_DOMINANCE + 1)

    def any_coin(count, base, counted):  # any of ``count`` comparisons (not) counting the second
        draws = crng.draw_array(state, base * n + np.arange(count))
        return bool(np.any(crng.below_array(draws, threshold) == counted))

    for g in np.split(np.arange(n), np.flatnonzero(np.diff(f)) + 1):  # groups of equal first
        for run in np.split(g, np.flatnonzero(np.diff(s[g])) + 1):  # runs of equal second
            for q in run:
                front_of[q] = 0
                for r in range(max(np.flatnonzero(in_earlier + in_group), default=-1), -1, -1):
                    if best_second[r] >= s[q] or any_coin(in_earlier[r], (q * n + r) * 2, False) \
                            or any_coin(in_group[r], (q * n + r) * 2 + 1, True):
                        front_of[q] = r + 1
                        break
            np.add.at(in_group, front_of[run], 1)
        np.maximum.at(best_second, front_of[g], s[g])
        in_earlier += in_group
        in_group[:] = 0
    rank = np.empty(n, dtype=np.int64)
    rank[order] = front_of
    return rank


def front_ranks(dom, needed) -> np.ndarray:
    rank = np.full(dom.shape[0], -1, dtype=np.int64)
    count = dom.sum(axis=0)
    front, ranked = 0, 0
    current = np.flatnonzero(count == 0)
    while current.size and ranked < needed:
        rank[current] = front
        ranked += current.size
        count = count - dom[current].sum(axis=0)
        count[rank >= 0] = -1
        current = np.flatnonzero(count == 0)
        front += 1
    return rank


def crowding_distance(values, members) -> np.ndarray:
    k, m_obj = members.size, values.shape[1]
    dist = np.zeros(k)
    if k == 0:
        return dist
    order = np.arange(k)
    for m in range(m_obj):
        column = values[members, m]
        order = order[np.argsort(column[order], kind="stable")]
        dist[order[[0, -1]]] = np.inf
        span = column[order[-1]] - column[order[0]]
        if span == 0:
            continue
        dist[order[1:-1]] += (column[order[2:]] - column[order[:-2]]) / (m_obj * span)
    return dist


def cut(members, dist, m, key, generation) -> np.ndarray:
    keep = np.ones(members.size, dtype=bool)
    if m >= members.size:
        return keep
    positive = np.sort(dist[dist > 0.0])[::-1]
    threshold = positive[m - 1] if positive.size >= m else 0.0
    keep = dist > threshold
    tied = np.flatnonzero(dist == threshold)
    need = m - keep.sum()
    state = crng.stream_state_array(key, generation, nsga2.S_CUT)
    steps = np.arange(need)
    picks = steps + crng.bounded_array(crng.draw_array(state, steps), tied.size - steps)
    for t, pick in zip(steps, picks):  # a partial Fisher-Yates shuffle: sequential
        tied[t], tied[pick] = tied[pick], tied[t]
    keep[tied[:need]] = True
    return keep


def nsga2_select(values, weights, thresholds, k, key, generation, order):
    n = values.shape[0]
    if values.shape[1] == 2 and thresholds[0] >= nsga2.ALWAYS:
        rank = sweep_ranks(values, weights, order, thresholds[1], key, generation)
        listing = order[::-1]
    else:
        rank = front_ranks(dominance_matrix(values, weights, thresholds, key, generation), k)
        listing = np.arange(n)
    return _select_ranked(values, rank, listing, k, key, generation, order)


def nsga2_select_per_check(values, weights, thresholds, k, key, generation, order):
    rank = peeled_ranks(values, weights, thresholds, k, key, generation)
    return _select_ranked(values, rank, np.arange(values.shape[0]), k, key, generation, order)


def _select_ranked(values, rank, listing, k, key, generation, order):
    """Crowding and the cut of the fronts that fill k, each front in ``listing`` order."""
    n = values.shape[0]
    sizes = np.bincount(rank[rank >= 0], minlength=n + 1)
    last = int(np.searchsorted(np.cumsum(sizes), k))
    filled = sizes[:last].sum()
    crowd = np.zeros(n)
    chosen = np.zeros(n, dtype=bool)
    for f in range(last + 1):
        front = listing[rank[listing] == f]
        crowd[front] = crowding_distance(values, front)
        chosen[front] = cut(front, crowd[front], k - filled, key, generation) if f == last else True
    return order[chosen[order]], rank, crowd, min(sizes[0], k)


def binary_tournament(rank, crowd, n_picks, key, generation) -> np.ndarray:
    state = crng.stream_state_array(key, generation, nsga2.S_MATING)
    picks = crng.bounded_array(crng.draw_array(state, np.arange(2 * n_picks)), rank.size)
    a, b = picks[0::2], picks[1::2]
    b_wins = (rank[b] < rank[a]) | ((rank[b] == rank[a]) & (crowd[b] > crowd[a]))
    return np.where(b_wins, b, a)


def _relations(values, weights, thresholds, j, i) -> np.ndarray:
    """How j dominates i, pair by pair (``peeling``'s NEVER, SURE, UNCOUNTED or COUNTED): on the
    always-counted objectives, then on the one a coin counts."""
    wv = values * weights
    coin = (thresholds > 0) & (thresholds < nsga2.ALWAYS)
    counted = (thresholds >= nsga2.ALWAYS) & ~coin
    better = (wv[j][:, counted] > wv[i][:, counted]).any(axis=1)
    worse = (wv[j][:, counted] < wv[i][:, counted]).any(axis=1)
    ahead = (wv[j][:, coin] - wv[i][:, coin]).sum(axis=1)  # one column, or none: 0
    return np.select([worse, better & (ahead >= 0), better, ahead > 0],
                     [peeling.NEVER, peeling.SURE, peeling.UNCOUNTED, peeling.COUNTED],
                     peeling.NEVER)


def _coin_threshold(thresholds) -> np.uint64:
    coin = thresholds[(thresholds > 0) & (thresholds < nsga2.ALWAYS)]
    return coin[0] if coin.size else nsga2.ALWAYS


def peeled_ranks(values, weights, thresholds, needed, key, generation) -> np.ndarray:
    """Round by round: an individual is non-dominated when it has no SURE dominator left and all
    coins of its other checks fail (every coin drawn: the answer is the kernel's)."""
    n = values.shape[0]
    j, i = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    relation = _relations(values, weights, thresholds, j.ravel(), i.ravel()).reshape(n, n)
    threshold = _coin_threshold(thresholds)
    state = crng.stream_state_array(key, generation, peeling.S_CHECK)
    rank = np.full(n, -1, dtype=np.int64)
    r, ranked = 0, 0
    while ranked < needed and (rank < 0).any():
        alive = np.flatnonzero(rank < 0)
        among = relation[np.ix_(alive, alive)]
        open_ = alive[(among == peeling.SURE).sum(axis=0) == 0]
        uncounted = (relation[np.ix_(alive, open_)] == peeling.UNCOUNTED).sum(axis=0)
        checks = uncounted + (relation[np.ix_(alive, open_)] == peeling.COUNTED).sum(axis=0)
        owner = np.repeat(np.arange(open_.size), checks)
        t = np.arange(checks.sum()) - np.repeat(np.cumsum(checks) - checks, checks)
        base = ((r * n + open_[owner]) * n + t).astype(np.uint64)
        coin = crng.below_array(crng.draw_array(state, base), threshold)
        succeeds = np.where(t < uncounted[owner], ~coin, coin)  # the check finds a dominator
        dominated = np.bincount(owner[succeeds], minlength=open_.size) > 0
        front = open_[~dominated]
        rank[front] = r
        ranked += front.size
        r += 1
    return rank


def dominance_tournament(values, weights, thresholds, crowd, n_picks, key, generation):
    n = values.shape[0]
    picks = crng.bounded_array(_draws(key, generation, nsga2.S_MATING, 2 * n_picks), n)
    a, b = picks[0::2], picks[1::2]
    coins = _draws(key, generation, peeling.S_MATING_CHECK, 2 * n_picks)
    counted = crng.below_array(coins[0::2], _coin_threshold(thresholds))
    tie = (coins[1::2] >> np.uint64(63)) != 0

    def dominates(relation):
        return (relation == peeling.SURE) | ((relation == peeling.UNCOUNTED) & ~counted) | (
            (relation == peeling.COUNTED) & counted)

    b_wins = dominates(_relations(values, weights, thresholds, b, a)) | (
        ~dominates(_relations(values, weights, thresholds, a, b))
        & ((crowd[b] > crowd[a]) | ((crowd[b] == crowd[a]) & tie)))
    return np.where(b_wins, b, a)


def duplicates(genomes) -> np.ndarray:
    _, first = np.unique(genomes, axis=0, return_index=True)
    dup = np.ones(len(genomes), dtype=bool)
    dup[first] = False
    return dup



def ranks(values, weights, thresholds, needed, key, generation) -> np.ndarray:
    """The sweep for two objectives with the first always counted, else the pairwise sort."""
    if values.shape[1] == 2 and thresholds[0] >= nsga2.ALWAYS:
        return sweep_ranks(values, weights, sweep_order(values, weights, 0), thresholds[1], key,
                           generation)
    return front_ranks(dominance_matrix(values, weights, thresholds, key, generation), needed)
