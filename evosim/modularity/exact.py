"""Maximum modularity: exact Russian-doll branch and bound (Numba) with a heuristic fallback.

``Q(P) = const + sum_{i<j same community} W_ij`` with ``W_ij = (B_ij + B_ji) / M`` and
``const = trace(B) / M`` (``B``, ``M`` from :func:`evosim.modularity.newman.modularity_matrix`), so
maximising Q is a clique-partitioning problem on W.

Exactness.  For every connected component with at most ``exact_limit`` vertices the optimum is
computed by the exhaustive branch and bound of :mod:`._bb_kernel` (valid upper bound, no node limit),
hence it is provably optimal (up to a 1e-12 pruning tolerance).  Decomposition is exact too:
with non-negative weights ``W_ij <= 0`` for every pair of vertices not joined by an edge, so merging
vertices of different connected components never helps; each component is solved on its own and
isolated vertices are put in singleton communities (they do not change Q).  With negative weights
the graph is solved as a whole (no decomposition).

Components larger than ``exact_limit`` use the best of several seeded Louvain runs (networkx),
refined by single-vertex moves, followed by a node-limited branch and bound seeded with it; if that
search finishes the result is still proven optimal, otherwise ``exact=False`` and ``method`` says
``"louvain+moves"``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ._bb_kernel import russian_doll_bb
from ._heuristic import local_moves
from .newman import canonical_labels, modularity_matrix, newman_q

__all__ = ["MaxQResult", "solve_max_q", "max_q", "EXACT_METHOD", "HEURISTIC_METHOD"]

EXACT_METHOD = "exact-bb"
HEURISTIC_METHOD = "louvain+moves"
_HEURISTIC_NODE_LIMIT = 20_000  # above the exact limit the search rarely finishes: keep it short


class MaxQResult(NamedTuple):
    q: float
    communities: np.ndarray
    method: str
    exact: bool


@njit(cache=True)
def _component_labels(und):
    """Connected-component label of each vertex (components numbered by lowest vertex)."""
    n = und.shape[0]
    comp = np.full(n, -1, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    k = 0
    for s in range(n):
        if comp[s] >= 0:
            continue
        comp[s] = k
        top = 0
        stack[0] = s
        while top >= 0:
            v = stack[top]
            top -= 1
            for w in range(n):
                if und[v, w] and comp[w] < 0:
                    comp[w] = k
                    top += 1
                    stack[top] = w
        k += 1
    return comp


def _components(und: np.ndarray) -> list[np.ndarray]:
    comp = _component_labels(und)
    k = int(comp.max()) + 1
    if k == 1:
        return [np.arange(und.shape[0], dtype=np.int64)]
    return [np.flatnonzero(comp == c) for c in range(k)]


def _bb_order(und: np.ndarray) -> np.ndarray:
    """Vertex order for the branch and bound: decreasing degree, ties by index (deterministic).
    (Measured on circuit and layered graphs: 2-3x fewer search nodes than breadth-first orders.)"""
    return np.argsort(-und.sum(axis=1), kind="stable")


def _heuristic(W: np.ndarray, sub_adj: np.ndarray, directed: bool, rng) -> np.ndarray:
    import networkx as nx

    n = W.shape[0]
    cands = [local_moves(W, np.arange(n, dtype=np.int64)), local_moves(W, np.zeros(n, dtype=np.int64))]
    g = nx.from_numpy_array(sub_adj, create_using=nx.DiGraph if directed else nx.Graph)
    seeds = rng.integers(0, 2**31 - 1, size=8)
    for s in seeds:
        comms = nx.community.louvain_communities(g, weight="weight", seed=int(s))
        lab = np.empty(n, dtype=np.int64)
        for ci, c in enumerate(sorted(comms, key=min)):
            for v in c:
                lab[v] = ci
        cands.append(local_moves(W, lab))
    vals = [_value(W, c) for c in cands]
    return cands[int(np.argmax(vals))]


def _value(W: np.ndarray, lab: np.ndarray) -> float:
    same = lab[:, None] == lab[None, :]
    return float(np.triu(W * same, 1).sum())


def solve_max_q(adjacency, directed: bool = False, *, exact_limit: int = 24, rng=None) -> MaxQResult:
    """Maximum modularity over all partitions (see module docstring for the method).

    ``communities`` are canonical int labels (numbered by first appearance); isolated vertices get
    singleton communities; a graph without edges has ``q = 0.0`` and all-singleton communities.
    ``rng`` (seed or Generator) only matters above ``exact_limit`` (Louvain seeds).
    """
    a = np.asarray(adjacency, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be square, got shape {a.shape}")
    n = a.shape[0]
    if n == 0:
        return MaxQResult(0.0, np.zeros(0, dtype=np.int64), EXACT_METHOD, True)
    if not directed and not np.array_equal(a, a.T):
        raise ValueError("undirected adjacency must be symmetric")
    B, M = modularity_matrix(a, directed)
    if M == 0.0:
        return MaxQResult(0.0, np.arange(n, dtype=np.int64), EXACT_METHOD, True)
    W = (B + B.T) / M
    np.fill_diagonal(W, 0.0)
    und = (a != 0) | (a.T != 0)
    np.fill_diagonal(und, False)
    if (a < 0).any():
        comps = [np.arange(n, dtype=np.int64)]
    else:
        comps = _components(und)
    labels = np.full(n, -1, dtype=np.int64)
    next_label = 0
    exact = True
    for comp in comps:
        if comp.shape[0] == 1:
            labels[comp[0]] = next_label
            next_label += 1
            continue
        sub_und = und[np.ix_(comp, comp)]
        order = _bb_order(sub_und)
        idx = comp[order]
        Wc = np.ascontiguousarray(W[np.ix_(idx, idx)])
        if idx.shape[0] <= exact_limit:
            _, lab, _, complete = russian_doll_bb(Wc, np.zeros(0, dtype=np.int64), 0)
        else:
            if not isinstance(rng, np.random.Generator):
                rng = np.random.default_rng(0 if rng is None else rng)
            heur = _heuristic(Wc, a[np.ix_(idx, idx)], directed, rng)
            _, lab, _, complete = russian_doll_bb(Wc, heur, _HEURISTIC_NODE_LIMIT)
            if not complete:
                lab = heur
                exact = False
        labels[idx] = lab + next_label
        next_label += int(lab.max()) + 1
    labels = canonical_labels(labels)
    q = newman_q(a, labels, directed)
    return MaxQResult(q, labels, EXACT_METHOD if exact else HEURISTIC_METHOD, exact)


def max_q(adjacency, directed: bool = False) -> tuple[float, np.ndarray]:
    """``(q, communities)`` of :func:`solve_max_q` with default settings.

    Returns
    -------
    q : float
        Newman's Q of the best partition found (the maximum where the search was exact).
    communities : numpy.ndarray
        int64[n]: the community of each vertex, numbered 0..k-1 in order of first appearance.
    """
    r = solve_max_q(adjacency, directed)
    return r.q, r.communities
