"""Two objectives with the first always counted (the engine's case) take a sweep instead of the
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
"""
from __future__ import annotations

import numpy as np
from numba import njit, uintp

from evosim.counter_rng import ALWAYS, Stream, below, draw, stream_state
from evosim.engine.sorting import NARROW_BITS, radix_sort, sort_keys
from evosim.engine.nsga2.crowding import _draw_ties, _last_front, _mth_largest_positive

S_DOMINANCE = Stream.DOMINANCE.value  # stream ids S_DOMINANCE + m: the coins of objective m


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
