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

Indices read from arrays are cast to ``uintp`` in the loops: Numba then skips the negative-index
wraparound, which in these gather loops cost more than the reads.

Selection (``select``) is DEAP's ``selNSGA2`` except for one thing: among the last front's equal
crowding distances the cut is drawn at random, where DEAP keeps the earlier individuals (parents
before offspring), which would freeze neutral drift among equally good circuits.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uintp

from evosim.counter_rng import below, bounded, draw, stream_state
from evosim.engine.sorting import radix_sort, sort_keys

S_DOMINANCE = 64          # stream ids S_DOMINANCE + m: the coins of objective m
S_MATING = 9
S_CUT = 10                # random ties of crowding distance at the cut
ALWAYS = np.uint64(2**53)  # the coin threshold of p = 1 (``counter_rng.threshold(1.0)``)


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
    survivors are); only the rest is sorted, then the two runs are merged."""
    n = values.shape[0]
    k0, w0 = sort_keys(-(values[:, 0] * weights[0]))  # ascending keys of descending values
    k1, w1 = sort_keys(-(values[:, 1] * weights[1]))
    if w0 + w1 <= 64:  # one key, (first, second): integer objectives take one or two passes
        k0 = k1 if w0 == 0 else (k0 << np.uint64(w1)) | k1
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
def sweep_ranks(first, second, order, threshold, key, generation) -> np.ndarray:
    """Front ranks for two objectives, both maximised (``values * weights``), the first always
    counted and the second in a comparison with probability p (its coin threshold). ``order``
    lists the individuals best first (``sweep_order``). See the module docstring."""
    n = order.size
    f = np.empty(n)  # in sweep order: contiguous reads
    s = np.empty(n)
    for q in range(n):
        i = uintp(order[q])
        f[q] = first[i]
        s[q] = second[i]
    front_of = np.empty(n, dtype=np.int64)          # by position
    in_earlier = np.zeros(n + 1, dtype=np.int64)    # front -> members with a better first value
    best_second = np.full(n + 1, -np.inf)           # front -> their best second value
    in_group = np.zeros(n + 1, dtype=np.int64)      # front -> equal first, better second
    always = threshold >= ALWAYS
    never = threshold == 0
    # np.uint64: run as Python (the NumPy reference), a returned state is an int, which Numba
    # would type int64 in the draws
    state = np.uint64(stream_state(key, generation, S_DOMINANCE + 1))
    top_earlier = -1  # the highest front of the earlier groups
    g0 = 0
    while g0 < n:  # a group of equal first objective: positions g0 .. g1 - 1
        g1 = g0 + 1
        while g1 < n and f[g1] == f[g0]:
            g1 += 1
        top_group = -1  # the highest front of this group's earlier runs
        q0 = g0
        while q0 < g1:  # a run of equal second objective: nobody in it dominates another
            q1 = q0 + 1
            while q1 < g1 and s[q1] == s[q0]:
                q1 += 1
            if always:  # dominated by better-or-equal on both: no coins, one front for the run
                front = max(_last_at_least(best_second, top_earlier, s[q0]), top_group)
                front_of[q0:q1] = front + 1
            elif never:  # dominated by every better first value
                front_of[q0:q1] = top_earlier + 1
            else:
                # better first, second not worse: dominates whatever the coin
                sure = top_earlier
                while sure >= 0 and best_second[sure] < s[q0]:
                    sure -= 1
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
            q = q0
            while q < q1:  # stretches of one front: counts added once (no chains through memory)
                r, q_end = _stretch(front_of, q, q1)
                in_group[r] += q_end - q
                top_group = max(top_group, r)
                q = q_end
            q0 = q1
        q = g0
        while q < g1:
            r, q_end = _stretch(front_of, q, g1)
            in_group[r] = 0
            in_earlier[r] += q_end - q
            best_second[r] = max(best_second[r], s[q])  # the group is sorted: s[q] is the best
            top_earlier = max(top_earlier, r)
            q = q_end
        g0 = g1
    rank = np.empty(first.size, dtype=np.int64)
    for q in range(n):
        rank[uintp(order[q])] = front_of[q]
    return rank


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
def _stretch(values, start, stop):
    """(values[start], end of the stretch of equal values from start, before stop)."""
    end = start + 1
    while end < stop and values[end] == values[start]:
        end += 1
    return values[start], end


@njit(cache=True)
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
    return ranks_and_listing(values, weights, thresholds, needed, key, generation,
                             sweep_order(values, weights, 0))[0]


@njit(cache=True)
def ranks_and_listing(values, weights, thresholds, needed, key, generation, order):
    """(front ranks, the order fronts list their members in), given ``order`` =
    ``sweep_order(values, weights, ...)``: the sweep and reverse sweep order for two objectives
    with the first always counted, else the pairwise sort and index order."""
    if values.shape[1] == 2 and thresholds[0] >= ALWAYS:
        return sweep_ranks(values[:, 0] * weights[0], values[:, 1] * weights[1], order,
                           thresholds[1], key, generation), order[::-1]
    return (front_ranks(dominance_matrix(values, weights, thresholds, key, generation), needed),
            np.arange(values.shape[0]))


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
    positive = np.flatnonzero(dist > 0.0)  # in tie-heavy fronts most distances are 0: skip them
    if positive.size >= m:
        threshold = -np.partition(-dist[positive], m - 1)[m - 1]
    else:
        threshold = 0.0
    keep = dist > threshold
    tied = np.flatnonzero(dist == threshold)
    need = m - np.sum(keep)
    state = np.uint64(stream_state(key, generation, S_CUT))  # np.uint64: see sweep_ranks
    for t in range(need):
        pick = t + bounded(draw(state, t), tied.size - t)
        tied[t], tied[pick] = tied[pick], tied[t]
        keep[tied[t]] = True
    return keep


@njit(cache=True)
def _list_fronts(rank, listing, k):
    """The members of the fronts that fill k, front by front in ``listing`` order: (members,
    start (front f is members[start[f]:start[f + 1]]), the last front, how many precede it)."""
    n = rank.size
    sizes = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        if rank[i] >= 0:
            sizes[uintp(rank[i])] += 1
    last, filled = 0, 0
    while filled + sizes[last] < k:
        filled += sizes[last]
        last += 1
    start = np.zeros(last + 2, dtype=np.int64)
    for f in range(last + 1):
        start[f + 1] = start[f] + sizes[f]
    members = np.empty(start[last + 1], dtype=np.int64)
    slot = start[: last + 1].copy()
    for i in listing:
        f = rank[uintp(i)]
        if 0 <= f <= last:
            members[uintp(slot[uintp(f)])] = i
            slot[uintp(f)] += 1
    return members, start, last, filled


@njit(cache=True)
def _front_crowding(values, members, start, sweep) -> np.ndarray:
    """Crowding distances of ``members``, front by front (``_list_fronts``)."""
    dist = np.zeros(members.size)
    order_scratch = np.empty(members.size, dtype=np.int64)
    column_scratch = np.empty(members.size)
    for f in range(start.size - 1):
        a, b = start[f], start[f + 1]
        if a == b:
            continue
        if sweep:
            _crowding_by_runs(values, members[a:b], dist[a:b])
        else:
            _crowding_into(values, members[a:b], dist[a:b], order_scratch[a:b],
                           column_scratch[a:b])
    return dist


@njit(cache=True)
def _crowding_by_runs(values, members, dist) -> None:
    """``_crowding_into`` for two objectives and a front listed in reverse sweep order, worked out
    on its runs of equal objective vectors (converged populations hold a few dozen among
    thousands). The listing is sorted by the first objective, and a stable sort by the second
    keeps every run together and in listing order; so, whatever the objective, only the first
    and the last member of a run have a neighbour outside it: they take the gaps to the
    neighbouring runs (a run of one takes both), and the members inside take 0."""
    k = members.size
    first = np.empty(k + 1, dtype=np.int64)  # run r is members[first[r]:first[r + 1]]
    n_runs = 0
    previous = uintp(members[0]) if k else uintp(0)
    for p in range(k):
        i = uintp(members[p])
        if p == 0 or values[i, 0] != values[previous, 0] or values[i, 1] != values[previous, 1]:
            first[n_runs] = p
            n_runs += 1
        previous = i
    first[n_runs] = k
    runs = np.arange(n_runs)
    for m in range(2):
        column = np.empty(n_runs)
        for r in range(n_runs):
            column[r] = values[uintp(members[first[r]]), m]
        if m == 1:  # the first objective's order is the listing's own
            runs = radix_sort(sort_keys(column)[0], runs)
        head, tail = first[runs[0]], first[runs[n_runs - 1] + 1] - 1
        dist[head] = np.inf
        dist[tail] = np.inf
        low, high = column[runs[0]], column[runs[n_runs - 1]]
        if high == low:
            continue
        norm = 2 * (high - low)
        for q in range(n_runs):
            r = runs[q]
            before = column[runs[q - 1]] if q > 0 else column[r]
            after = column[runs[q + 1]] if q + 1 < n_runs else column[r]
            start, stop = first[r], first[r + 1] - 1
            if start == stop:  # a run of one: its neighbours are the runs on either side
                dist[start] += (after - before) / norm
            else:
                dist[start] += (column[r] - before) / norm
                dist[stop] += (after - column[r]) / norm


@njit(cache=True)
def select(values, weights, thresholds, k, key, generation):
    """NSGA-II environmental selection of k individuals; see ``select_sorted``."""
    return select_sorted(values, weights, thresholds, k, key, generation,
                         sweep_order(values, weights, 0))


@njit(cache=True)
def select_sorted(values, weights, thresholds, k, key, generation, order):
    """NSGA-II environmental selection of k individuals (DEAP's selNSGA2, random ties at the cut),
    given ``order`` = ``sweep_order(values, weights, ...)``.

    Fronts list their members in reverse sweep order (worst first), or in index order for the
    pairwise sort; that order decides ties within crowding distances, as DEAP's front order does.
    Returns (chosen indices in sweep order, rank of every individual (-1 if unranked), crowding
    distance of every individual of the fronts that fill the k (else 0), size of the first front).
    """
    n = values.shape[0]
    rank, listing = ranks_and_listing(values, weights, thresholds, k, key, generation, order)
    members, start, last, filled = _list_fronts(rank, listing, k)
    dist = _front_crowding(values, members, start, values.shape[1] == 2 and thresholds[0] >= ALWAYS)
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
    chosen = np.empty(k, dtype=np.int64)
    c = 0
    for i in order:
        if chosen_flag[uintp(i)]:
            chosen[c] = i
            c += 1
    return chosen, rank, crowd, min(start[1], k)


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
