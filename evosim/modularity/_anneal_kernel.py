"""Numba kernel: simulated annealing of Q over partitions, and over the graphs of a null model.

Q of a partition, directed or not, from community sums (zero diagonal; ``A`` symmetric when
undirected, so an undirected edge counts twice):

    Q = sum_c [ E_c / T - Out_c In_c / T**2 ],   E_c = sum_{i, j in c} A_ij,
    Out_c = sum_{i in c} out_i,  In_c = sum_{i in c} in_i,  T = sum_ij A_ij,

Newman's Q for symmetric ``A`` (``Out_c = In_c``, ``T = 2m``), Leicht & Newman's otherwise.  A
move changes a few of these sums, so its change of Q costs O(1) or O(n).

The walk moves one vertex at a time (to another vertex's community, or to an empty one); what the
graph may do depends on ``kind``:

* ``PARTITIONS``: nothing (the max Q of one graph);
* ``REWIRE`` (0/1 graphs, degree-preserving rewiring): after every vertex move the graph is
  repaired greedily by double-edge swaps a-b, c-d -> a-d, c-b (undirected: either orientation of
  c-d) that raise the number of edges inside communities, never making a self loop or a
  multi-edge, so degrees (in- and out-degrees) and simplicity are kept.  The move and its repair
  are accepted or refused together.  Moving vertices with the graph in tow is what lets the walk
  leave the many local optima of plain swap moves: on the modular G1 circuit, walks of random
  swaps and vertex moves reached the optimum in 10-40% of runs of 10^6 moves, vertex moves with
  repair in 10 of 10 runs of 4 x 10^4;
* ``PERMUTE`` (weighted graphs, weights permuted within blocks): besides vertex moves, two cells
  of one block (a rectangle of the matrix, e.g. the weights between two layers) exchange their
  values (undirected: with their mirror cells).  Strengths change; each block's values do not.

Maximising Q over graph and partition together is maximising the max Q over the graphs of the
null model: Q_max.  Metropolis acceptance at a temperature falling geometrically from ``t_hot``
to ``t_cold``; random numbers from :mod:`evosim.counter_rng`, so the stream fixes the result.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from evosim.counter_rng import draw

PARTITIONS, REWIRE, PERMUTE = 0, 1, 2
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def _uniform(stream, t):
    return (draw(stream, t) >> np.uint64(11)) * _INV53


@njit(cache=True, inline="always")
def _below(stream, t, n):
    return int(((draw(stream, t) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit(cache=True)
def _set_edge(a, i, j, value, directed):
    a[i, j] = value
    if not directed:
        a[j, i] = value


@njit(cache=True)
def _repair(a, edges, labels, directed):
    """Apply degree-preserving swaps that raise the number of edges inside communities until
    none does; return the number of edges brought inside."""
    m = edges.shape[0]
    gained = 0
    improved = True
    while improved:
        improved = False
        for i in range(m):
            x, y = edges[i, 0], edges[i, 1]
            if labels[x] == labels[y]:
                continue
            for j in range(m):
                if j == i:
                    continue
                for flip in range(1 if directed else 2):
                    u, v = edges[j, 0], edges[j, 1]
                    if flip:
                        u, v = v, u
                    if x == v or u == y or a[x, v] != 0.0 or a[u, y] != 0.0:
                        continue
                    gain = ((labels[x] == labels[v]) + (labels[u] == labels[y])
                            - (labels[u] == labels[v]))
                    if gain > 0:
                        _set_edge(a, x, y, 0.0, directed)
                        _set_edge(a, u, v, 0.0, directed)
                        _set_edge(a, x, v, 1.0, directed)
                        _set_edge(a, u, y, 1.0, directed)
                        edges[i, 0], edges[i, 1] = x, v
                        edges[j, 0], edges[j, 1] = u, y
                        gained += gain
                        improved = True
                        break
                if improved:
                    break
            if improved:
                break
    return gained


@njit(cache=True, inline="always")
def _null(out_c, in_c, total):
    return out_c * in_c / (total * total)


@njit(cache=True)
def _cell(blocks, starts, index):
    """(block, row, column) of the index-th cell over all blocks, row-major within a block."""
    b = 0
    while starts[b + 1] <= index:
        b += 1
    offset = index - starts[b]
    width = blocks[b, 3] - blocks[b, 2]
    return b, blocks[b, 0] + offset // width, blocks[b, 2] + offset % width


@njit(cache=True)
def anneal(a, edges, labels, directed, kind, blocks, steps, t_hot, t_cold, stream):
    """Anneal ``a`` (float64[n, n], zero diagonal) and ``labels`` (int64[n], values < n) in place.

    ``edges``: int64[m, 2], the edges of a 0/1 graph (undirected: each once), for ``REWIRE``;
    ``blocks``: int64[k, 4] rectangles (row0, row1, col0, col1) for ``PERMUTE``.  Returns
    (best Q, its adjacency, its labels) over the walk, the starting state included."""
    n = a.shape[0]
    total = a.sum()
    mult = 1.0 if directed else 2.0
    if kind == REWIRE and total > 0.0:
        _repair(a, edges, labels, directed)
    out_v, in_v = a.sum(axis=1), a.sum(axis=0)
    out_c, in_c = np.zeros(n), np.zeros(n)
    size = np.zeros(n, dtype=np.int64)
    inside = 0.0
    for i in range(n):
        size[labels[i]] += 1
        out_c[labels[i]] += out_v[i]
        in_c[labels[i]] += in_v[i]
        for j in range(n):
            if labels[j] == labels[i]:
                inside += a[i, j]
    q = 0.0
    if total > 0.0:
        q = inside / total
        for c in range(n):
            q -= _null(out_c[c], in_c[c], total)
    best_q, best_a, best_labels = q, a.copy(), labels.copy()
    if total == 0.0 or n < 2:
        return best_q, best_a, best_labels
    starts = np.zeros(blocks.shape[0] + 1, dtype=np.int64)
    for b in range(blocks.shape[0]):
        starts[b + 1] = starts[b] + (blocks[b, 1] - blocks[b, 0]) * (blocks[b, 3] - blocks[b, 2])
    cells = starts[-1]
    trial_a, trial_edges = a.copy(), edges.copy()
    ends = np.zeros(4, dtype=np.int64)
    end_out, end_in = np.zeros(4), np.zeros(4)
    cool = (t_cold / t_hot) ** (1.0 / max(steps - 1, 1))
    temp = t_hot
    r = 0  # position in the random stream
    for _ in range(steps):
        accept = _uniform(stream, r)
        weight_move = kind == PERMUTE and cells >= 2 and _uniform(stream, r + 1) < 0.5
        r += 2
        dq = 0.0
        moved = False
        if weight_move:
            b, x, y = _cell(blocks, starts, _below(stream, r, cells))
            _, u, v = _cell(blocks, starts, starts[b] + _below(stream, r + 1,
                                                               starts[b + 1] - starts[b]))
            r += 2
            w1, w2 = a[x, y], a[u, v]
            if w1 != w2:
                delta = w2 - w1
                ends[0], ends[1], ends[2], ends[3] = x, y, u, v
                if directed:  # out-strength of the rows, in-strength of the columns
                    end_out[0], end_out[1], end_out[2], end_out[3] = delta, 0.0, -delta, 0.0
                    end_in[0], end_in[1], end_in[2], end_in[3] = 0.0, delta, 0.0, -delta
                else:
                    end_out[0], end_out[1], end_out[2], end_out[3] = delta, delta, -delta, -delta
                    end_in[:] = end_out
                dq = mult * delta * ((labels[x] == labels[y]) - (labels[u] == labels[v])) / total
                for t in range(4):  # each community touched once, with all of its changes
                    c = labels[ends[t]]
                    seen = False
                    for s in range(t):
                        seen = seen or labels[ends[s]] == c
                    if not seen:
                        d_out, d_in = 0.0, 0.0
                        for s in range(t, 4):
                            if labels[ends[s]] == c:
                                d_out += end_out[s]
                                d_in += end_in[s]
                        dq -= (_null(out_c[c] + d_out, in_c[c] + d_in, total)
                               - _null(out_c[c], in_c[c], total))
                if dq >= 0.0 or accept < math.exp(dq / temp):
                    for t in range(4):
                        p = ends[t]
                        out_c[labels[p]] += end_out[t]
                        in_c[labels[p]] += end_in[t]
                        out_v[p] += end_out[t]
                        in_v[p] += end_in[t]
                    a[x, y], a[u, v] = w2, w1
                    if not directed:
                        a[y, x], a[v, u] = w2, w1
                    moved = True
        else:
            v = _below(stream, r + 1, n)
            pick = _below(stream, r + 2, n)
            r += 3
            old, new = labels[v], labels[pick]
            if pick == v and size[old] > 1:  # to an empty community
                for c in range(n):
                    if size[c] == 0:
                        new = c
                        break
            if new != old:
                link_old, link_new = 0.0, 0.0
                for w in range(n):
                    if w != v:
                        if labels[w] == old:
                            link_old += a[v, w] + a[w, v]
                        elif labels[w] == new:
                            link_new += a[v, w] + a[w, v]
                dq = (link_new - link_old) / total
                dq -= (_null(out_c[old] - out_v[v], in_c[old] - in_v[v], total)
                       - _null(out_c[old], in_c[old], total))
                dq -= (_null(out_c[new] + out_v[v], in_c[new] + in_v[v], total)
                       - _null(out_c[new], in_c[new], total))
                labels[v] = new
                if kind == REWIRE:
                    trial_a[:, :] = a
                    trial_edges[:, :] = edges
                    dq += mult * _repair(trial_a, trial_edges, labels, directed) / total
                if dq >= 0.0 or accept < math.exp(dq / temp):
                    if kind == REWIRE:
                        a[:, :] = trial_a
                        edges[:, :] = trial_edges
                    out_c[old] -= out_v[v]
                    in_c[old] -= in_v[v]
                    out_c[new] += out_v[v]
                    in_c[new] += in_v[v]
                    size[old] -= 1
                    size[new] += 1
                    moved = True
                else:
                    labels[v] = old
        if moved:
            q += dq
            if q > best_q + 1e-12:
                best_q = q
                best_a[:, :] = a
                best_labels[:] = labels
        temp *= cool
    return best_q, best_a, best_labels
