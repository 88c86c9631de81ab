"""NSGA-II (Deb et al. 2002) over objective arrays, with Clune et al.'s stochastic variant.

Conventions follow DEAP so the kernels can be checked against it: ``values[N, M]`` are raw objective
values and ``weights[M]`` their directions (+1 maximise, -1 minimise); dominance compares
``values * weights``; crowding distances sort the raw values, as ``tools.emo.assignCrowdingDist``.

Stochastic dominance (P&NSGA, Clune, Mouret & Lipson 2013): objective m takes part in a comparison
of two individuals with probability p_m (performance 1, connection cost 0.25); with every p_m = 1
this is NSGA-II. Each comparison has its own coin, drawn from a counter-based stream keyed by the
generation, so a sort is deterministic for a run and identical in the NumPy reference.

Two objectives with the first always counted (the engine's case) take a sweep instead of the
pairwise matrix. Individuals are visited best first; the front of j is one more than the highest
front holding one of j's dominators. Only individuals before j can dominate it, and whether some
dominator sits in front r is decided by the coins of j's comparisons with the members of front r,
one at a time until one dominates; fronts are tried from the highest down, so a sweep draws a few
coins per individual instead of N. The coins of different individuals are independent, so the
fronts have exactly the law of drawing every pair's coin (the tests compare the two, and the
sweep with every objective counted against DEAP's ``sortNondominated``). With every objective
counted there are no coins and a front is found by bisection: O(N log N) with the sort.

A converged population holds a few dozen distinct objective vectors among thousands of
individuals. The sweep, the crowding distances and the cut therefore work on runs of equal vectors
in sweep order where they can: a run whose members draw no coins joins one front as a block;
within a front only the ends of a run have a neighbour outside it, so only they get a crowding
distance; and a run's inner members enter the cut's ties as one stretch. Work per individual is
left to the coins and to the copies that the result needs.

Helpers that take arrays are not called per individual: Numba counts references to every array
argument on each call, which cost more than the work in these loops. Indices read from arrays are cast to ``uintp`` in the loops: Numba then skips the negative-index
wraparound, which in these gather loops cost more than the reads.

Selection (``select``) is DEAP's ``selNSGA2`` except for one thing: among the last front's equal
crowding distances the cut is drawn at random, where DEAP keeps the earlier individuals (parents
before offspring), which would freeze neutral drift among equally good genomes.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uintp

from evosim.counter_rng import ALWAYS, Stream, below, bounded, draw, stream_state
from evosim.engine.sorting import NARROW_BITS, radix_sort, sort_keys

S_DOMINANCE = Stream.DOMINANCE.value  # stream ids S_DOMINANCE + m: the coins of objective m
S_MATING = Stream.MATING.value
S_CUT = Stream.CUT.value


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
def sweep_order(values, weights, n_sorted) -> np.ndarray:
    """Positions best first: first objective (times its weight) descending, then the second,
    ties in index order. The first ``n_sorted`` rows must already be in that order (the engine's
    survivors are): when the keys are wide only the rest is sorted, then the two are merged;
    integer objectives of small range (rows correct, connection counts) are sorted whole in one
    counting pass, which costs less than the merge."""
    n = values.shape[0]
    k0, w0 = sort_keys(values[:, 0], -weights[0])  # ascending keys of descending values
    k1, w1 = sort_keys(values[:, 1], -weights[1])
    if w0 + w1 <= 64:  # one key, (first, second)
        k0 = k1 if w0 == 0 else (k0 << np.uint64(w1)) | k1
        if w0 + w1 <= NARROW_BITS:
            return radix_sort(k0, np.arange(n))
        k1 = np.zeros(n, dtype=np.uint64)
        rest = radix_sort(k0, np.arange(n_sorted, n))
    else:
        rest = radix_sort(k0, radix_sort(k1, np.arange(n_sorted, n)))
    if n_sorted == 0:
        return rest
    order = np.empty(n, dtype=np.int64)
    a, b = 0, 0
    for q in range(n):
        if b == rest.size:
            take_rest = False
        elif a == n_sorted:
            take_rest = True
        else:
            r = uintp(rest[b])
            take_rest = k0[r] < k0[a] or (k0[r] == k0[a] and k1[r] < k1[a])
        if take_rest:
            order[q] = rest[b]
            b += 1
        else:
            order[q] = a
            a += 1
    return order


@njit(cache=True)
def sweep_ranks(values, weights, order, threshold, key, generation) -> np.ndarray:
    """Front ranks for two objectives, the first always counted and the second in a comparison
    with probability p (its coin threshold). ``order`` lists the individuals best first
    (``sweep_order``). See the module docstring."""
    f, s, runs = _sorted_runs(values, weights, order)
    front_of = _sweep_fronts(f, s, runs, threshold, key, generation)[0]
    rank = np.empty(order.size, dtype=np.int64)
    for q in range(order.size):
        rank[uintp(order[q])] = front_of[q]
    return rank


@njit(cache=True)
def _sorted_runs(values, weights, order):
    """(the objectives times their weights (both maximised) in ``order``, the starts of its runs
    of equal objective vectors and the end: run t is positions runs[t]:runs[t + 1]). Converged
    populations hold a few dozen runs among thousands of individuals, so the sweep and the
    crowding work on runs where they can."""
    n = order.size
    f = np.empty(n)
    s = np.empty(n)
    starts = np.empty(n + 1, dtype=np.int64)
    t = 0
    for q in range(n):
        i = uintp(order[q])
        f[q] = values[i, 0] * weights[0]
        s[q] = values[i, 1] * weights[1]
        starts[t] = q  # overwritten by the next run's start unless q starts a run
        t += q == 0 or f[q] != f[q - 1] or s[q] != s[q - 1]
    starts[t] = n
    return f, s, starts[: t + 1]


@njit(cache=True)
def _sweep_fronts(f, s, runs, threshold, key, generation):
    """The sweep over positions in sweep order (values ``f``, ``s``, runs ``runs``): (front of
    each position, the front of each run or -1 where its members drew coins of their own, the
    size of each front)."""
    n, n_runs = f.size, runs.size - 1
    front_of = np.empty(n, dtype=np.int64)
    run_front = np.empty(n_runs, dtype=np.int64)
    in_earlier = np.zeros(n + 1, dtype=np.int64)    # front -> members with a better first value
    best_second = np.full(n + 1, -np.inf)           # front -> their best second value
    in_group = np.zeros(n + 1, dtype=np.int64)      # front -> equal first, better second
    group_best = np.empty(n + 1)                    # front -> best second of those
    touched = np.empty(n + 1, dtype=np.int64)       # the fronts the group reached
    always = threshold >= ALWAYS
    never = threshold == 0
    state = stream_state(key, generation, S_DOMINANCE + 1)
    top_earlier = -1  # the highest front of the earlier groups
    t0 = 0
    while t0 < n_runs:  # a group of equal first objective: runs t0 .. t1 - 1
        t1 = t0 + 1
        while t1 < n_runs and f[runs[t1]] == f[runs[t0]]:
            t1 += 1
        top_group = -1  # the highest front of this group's earlier runs
        n_touched = 0
        for t in range(t0, t1):  # nobody in a run dominates another member of it
            q0, q1, v = runs[t], runs[t + 1], s[runs[t]]
            if always:  # dominated by better-or-equal on both: no coins
                rank = max(_last_at_least(best_second, top_earlier, v), top_group) + 1
            elif never:  # dominated by every better first value
                rank = top_earlier + 1
            else:
                # better first, second not worse: dominates whatever the coin
                sure = top_earlier
                while sure >= 0 and best_second[sure] < v:
                    sure -= 1
                rank = sure + 1 if max(top_earlier, top_group) <= sure else -1
            run_front[t] = rank
            if rank >= 0:
                front_of[q0:q1] = rank
            else:
                for q in range(q0, q1):
                    front = sure
                    for r in range(max(top_earlier, top_group), sure, -1):
                        # better first, worse second: dominates if the second is not counted;
                        # equal first, better second: dominates if it is counted
                        if _any_coin(state, threshold, False, in_earlier[r], (q * n + r) * 2, n) \
                                or _any_coin(state, threshold, True, in_group[r],
                                             (q * n + r) * 2 + 1, n):
                            front = r
                            break
                    front_of[q] = front + 1
            # the run joins the group once it is ranked (its members do not dominate each
            # other): as one block, or member by member. Written out here: a helper taking
            # these arrays would count references to them on every call, which cost more
            # than the join.
            for j in range(1 if rank >= 0 else q1 - q0):
                r, count = (rank, q1 - q0) if rank >= 0 else (front_of[q0 + j], 1)
                if in_group[r] == 0:  # its first members have the group's best second value
                    touched[n_touched] = r
                    n_touched += 1
                    group_best[r] = v
                in_group[r] += count
                top_group = max(top_group, r)
        for j in range(n_touched):
            r = touched[j]
            in_earlier[r] += in_group[r]
            in_group[r] = 0
            best_second[r] = max(best_second[r], group_best[r])
            top_earlier = max(top_earlier, r)
        t0 = t1
    return front_of, run_front, in_earlier


@njit(cache=True)
def _last_at_least(best_second, top, v) -> int:
    """The highest front r <= top with best_second[r] >= v, or -1, by bisection: with every
    objective counted the fronts' best second values do not increase (each member of front r + 1
    has a dominator in front r, at least as good on both)."""
    low, high = 0, top + 1
    while low < high:
        mid = (low + high) // 2
        if best_second[mid] >= v:
            low = mid + 1
        else:
            high = mid
    return low - 1


@njit(cache=True, inline="always")
def _any_coin(state, threshold, counted, count, base, n) -> bool:
    """Whether any of ``count`` comparisons counts the second objective (``counted``) or leaves
    it out (not ``counted``): one coin each, drawn until the answer is known."""
    for t in range(count):
        if below(draw(state, base * n + t), threshold) == counted:
            return True
    return False


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
    whose ``order`` is reassigned, it ran seven times slower)."""
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
def _select_pairwise(values, weights, thresholds, k, key, generation, order):
    """``select_sorted`` by the pairwise sort, its fronts listed in index order."""
    n = values.shape[0]
    rank = front_ranks(dominance_matrix(values, weights, thresholds, key, generation), k)
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


@njit(cache=True)
def _select_by_sweep(values, weights, threshold, k, key, generation, order):
    """``select_sorted`` for two objectives with the first always counted: the sweep, then
    crowding and the cut worked out on runs of equal objective vectors (see ``_front_pieces``)."""
    n = order.size
    f, s, runs = _sorted_runs(values, weights, order)
    front_of, run_front, sizes = _sweep_fronts(f, s, runs, threshold, key, generation)
    last, filled = _last_front(sizes, k)
    head, tail, size, start = _front_pieces(front_of, runs, run_front, last)
    dist = np.zeros(n)  # by position
    for r in range(last + 1):
        a, b = start[r], start[r + 1]
        _crowding_of_pieces(values, order, head[a:b], tail[a:b], dist)
    a = start[last]
    picked = _cut_pieces(front_of, dist, head[a:], tail[a:], size[a:], last, k - filled, key,
                         generation)
    chosen = np.empty(k + 1, dtype=np.int64)  # + 1: the branch-free write past the last pick
    rank = np.empty(n, dtype=np.int64)
    crowd = np.empty(n)
    c = 0
    for q in range(n):
        i = uintp(order[q])
        rank[i] = front_of[q]
        crowd[i] = dist[q]
        chosen[c] = i
        c += front_of[q] < last or picked[q]
    return chosen[:k], rank, crowd, min(sizes[0], k)


@njit(cache=True)
def _front_pieces(front_of, runs, run_front, last):
    """The pieces of fronts 0 .. last: a piece is the members of one front in one run of equal
    vectors, which are consecutive in the front's listing (reverse sweep order). Returns (each
    piece's first listed position (the highest), its last (the lowest), its members; start:
    front r has the pieces start[r]:start[r + 1], in listing order)."""
    found = np.empty((front_of.size, 4), dtype=np.int64)  # front, head, tail, members
    open_piece = np.full(last + 1, -1)  # front -> its piece in the current run
    count = np.zeros(last + 2, dtype=np.int64)
    n_pieces = 0
    for t in range(runs.size - 2, -1, -1):
        q0, q1, r = runs[t], runs[t + 1], run_front[t]
        if r >= 0:  # the whole run in one front
            if r <= last:
                found[n_pieces] = (r, q1 - 1, q0, q1 - q0)
                count[r + 1] += 1
                n_pieces += 1
            continue
        first = n_pieces
        for q in range(q1 - 1, q0 - 1, -1):
            r = front_of[q]
            if r > last:
                continue
            if open_piece[r] < 0:
                open_piece[r] = n_pieces
                found[n_pieces] = (r, q, q, 0)
                count[r + 1] += 1
                n_pieces += 1
            found[open_piece[r], 2] = q
            found[open_piece[r], 3] += 1
        for p in range(first, n_pieces):
            open_piece[found[p, 0]] = -1
    start = np.cumsum(count)
    slot = start[:-1].copy()
    head = np.empty(n_pieces, dtype=np.int64)
    tail = np.empty(n_pieces, dtype=np.int64)
    size = np.empty(n_pieces, dtype=np.int64)
    for p in range(n_pieces):  # grouped by front, stably
        j = slot[found[p, 0]]
        slot[found[p, 0]] += 1
        head[j], tail[j], size[j] = found[p, 1], found[p, 2], found[p, 3]
    return head, tail, size, start


@njit(cache=True)
def _crowding_of_pieces(values, order, head, tail, dist) -> None:
    """DEAP's crowding distances (``crowding_distance``) of one front given as its pieces, added
    into ``dist`` (by position). The listing is sorted by the first objective, and a stable sort
    by the second keeps every piece together and in listing order; so, whatever the objective,
    only the first and the last member of a piece have a neighbour outside it: they take the gaps
    to the neighbouring pieces (a piece of one takes both), and the members inside take 0."""
    n_pieces = head.size
    pieces = np.arange(n_pieces)
    column = np.empty(n_pieces)
    for m in range(2):
        for p in range(n_pieces):
            column[p] = values[uintp(order[head[p]]), m]
        if m == 1:  # the first objective's order is the listing's own
            pieces = radix_sort(sort_keys(column)[0], pieces)
        dist[head[pieces[0]]] = np.inf
        dist[tail[pieces[n_pieces - 1]]] = np.inf
        low, high = column[pieces[0]], column[pieces[n_pieces - 1]]
        if high == low:
            continue
        norm = 2 * (high - low)
        for j in range(n_pieces):
            p = pieces[j]
            before = column[pieces[j - 1]] if j > 0 else column[p]
            after = column[pieces[j + 1]] if j + 1 < n_pieces else column[p]
            if head[p] == tail[p]:  # a piece of one: its neighbours are the pieces around it
                dist[head[p]] += (after - before) / norm
            else:
                dist[head[p]] += (column[p] - before) / norm
                dist[tail[p]] += (after - column[p]) / norm


@njit(cache=True)
def _cut_pieces(front_of, dist, head, tail, size, last, m, key, generation) -> np.ndarray:
    """``cut`` of the last front, given as its pieces, to ``m`` members, as a mask by position.
    Only the ends of a piece can have a positive distance, so the threshold is found among them,
    and the inner members of a piece of consecutive positions join the ties as one stretch."""
    picked = np.zeros(front_of.size, dtype=np.bool_)
    total = size.sum()
    if m >= total:
        for p in range(head.size):
            for q in range(tail[p], head[p] + 1):
                picked[q] = front_of[q] == last
        return picked
    ends = np.empty(2 * head.size)
    e = 0
    for p in range(head.size):
        ends[e] = dist[head[p]]
        e += dist[head[p]] > 0.0
        if tail[p] != head[p]:
            ends[e] = dist[tail[p]]
            e += dist[tail[p]] > 0.0
    threshold = _mth_largest_positive(ends[:e], m)
    tied = np.empty(total, dtype=np.int64)
    n_tied, need = 0, m
    for p in range(head.size):  # in listing order: each piece from its highest position down
        a, b = head[p], tail[p]
        consecutive = a - b + 1 == size[p]
        q = a
        while q >= b:
            if consecutive and b < q < a:  # the inner members: distance 0
                if threshold == 0.0:
                    for inner in range(q, b, -1):
                        tied[n_tied] = inner
                        n_tied += 1
                q = b
            if front_of[q] == last:
                if dist[q] > threshold:
                    picked[q] = True
                    need -= 1
                elif dist[q] == threshold:
                    tied[n_tied] = q
                    n_tied += 1
            q -= 1
    for q in _draw_ties(tied[:n_tied], need, key, generation):
        picked[q] = True
    return picked


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
