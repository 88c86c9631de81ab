"""Outside oracles for Q_max, independent of evosim's annealer.

* ``milp_q_max``: the exact largest max-Q over all simple graphs with a degree sequence, as a
  mixed-integer program solved by HiGHS (scipy.optimize.milp).  Variables: x (edge present),
  y (same community, with the triangle constraints of a partition), z = x AND y.  Q is linear in
  y and z, so the optimum is the exact Q_max.
* ``brute_force_layer_q_max``: every within-layer permutation of a tiny layered network's weights,
  every partition of its units.
"""
from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix


def milp_q_max(adjacency: np.ndarray, directed: bool) -> float:
    a = np.asarray(adjacency) != 0
    n = a.shape[0]
    out_deg, in_deg = a.sum(1).astype(float), a.sum(0).astype(float)
    pairs = list(itertools.combinations(range(n), 2))
    arcs = [(i, j) for i in range(n) for j in range(n) if i != j] if directed else pairs
    pair_of = {p: k for k, p in enumerate(pairs)}
    nx_, ny = len(arcs), len(pairs)
    total = out_deg.sum() if directed else out_deg.sum()  # T = sum_ij A_ij (2m if undirected)
    c = np.zeros(2 * nx_ + ny)  # [x | z | y], minimised
    for k, (i, j) in enumerate(arcs):
        c[nx_ + k] = -(1.0 if directed else 2.0) / total
    for k, (i, j) in enumerate(pairs):
        c[2 * nx_ + k] = (out_deg[i] * in_deg[j] + out_deg[j] * in_deg[i]) / total ** 2
    constant = (out_deg * in_deg).sum() / total ** 2  # i == j terms of the null model
    triples = list(itertools.combinations(range(n), 3))
    rows = lil_matrix((2 * n + 2 * nx_ + 3 * len(triples), len(c)))
    low, high, r = [], [], 0
    for v in range(n):
        for k, (i, j) in enumerate(arcs):
            if i == v or (not directed and j == v):
                rows[r, k] = 1
        low.append(out_deg[v]), high.append(out_deg[v])
        r += 1
        if directed:
            for k, (i, j) in enumerate(arcs):
                if j == v:
                    rows[r, k] = 1
            low.append(in_deg[v]), high.append(in_deg[v])
            r += 1
    for k, (i, j) in enumerate(arcs):
        rows[r, nx_ + k], rows[r, k] = 1, -1
        rows[r + 1, nx_ + k], rows[r + 1, 2 * nx_ + pair_of[(min(i, j), max(i, j))]] = 1, -1
        low += [-np.inf, -np.inf]
        high += [0, 0]
        r += 2
    for i, j, k in triples:
        ij, jk, ik = (2 * nx_ + pair_of[p] for p in ((i, j), (j, k), (i, k)))
        for s, t, u in ((ij, jk, ik), (ij, ik, jk), (ik, jk, ij)):
            rows[r, s], rows[r, t], rows[r, u] = 1, 1, -1
            low.append(-np.inf), high.append(1)
            r += 1
    integrality = np.r_[np.ones(nx_), np.zeros(nx_), np.ones(ny)]
    result = milp(c, constraints=LinearConstraint(rows.tocsr()[:r], low, high),
                  integrality=integrality, bounds=Bounds(0, 1))
    assert result.status == 0, result.message
    return -result.fun - constant


def _partitions(n: int):
    """Every partition of range(n) as a label list (restricted growth strings)."""
    def grow(prefix, top):
        if len(prefix) == n:
            yield list(prefix)
            return
        for label in range(top + 2):
            yield from grow(prefix + [label], max(top, label))
    yield from grow([0], 0)


def brute_force_layer_q_max(adjacency: np.ndarray, sizes) -> float:
    """Largest max-Q over every within-layer permutation of a symmetric layered weight graph."""
    start = np.concatenate([[0], np.cumsum(sizes)])
    blocks = [(start[l], start[l + 1], start[l + 1], start[l + 2]) for l in range(len(sizes) - 1)]
    labels = np.array(list(_partitions(int(start[-1]))))
    same = labels[:, :, None] == labels[:, None, :]
    choices = [set(itertools.permutations(adjacency[r0:r1, c0:c1].ravel()))
               for r0, r1, c0, c1 in blocks]
    best = -np.inf
    for values in itertools.product(*choices):
        a = np.zeros_like(adjacency)
        for (r0, r1, c0, c1), v in zip(blocks, values):
            a[r0:r1, c0:c1] = np.reshape(v, (r1 - r0, c1 - c0))
        a = a + a.T
        k = a.sum(1)
        b = a - np.outer(k, k) / a.sum()
        best = max(best, float((same * b).sum(axis=(1, 2)).max() / a.sum()))
    return best
