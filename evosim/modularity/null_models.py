"""Normalised modularity Qm = (Q - Q_rand) / (Q_max - Q_rand)  (Kashtan & Alon 2005).

* Q: maximum modularity of the graph (:func:`solve_max_q`, exact up to ``exact_limit`` nodes).
* Q_rand: mean maximum modularity of ``n_samples`` degree-preserving randomisations.  Each is made
  by ``20 * m`` attempted double-edge swaps on the edge list (undirected: (a,b),(c,d) -> (a,d),(c,b)
  with a random orientation of the second edge; directed: a->b, c->d -> a->d, c->b, so in- and
  out-degrees are kept).  Swaps creating a self loop or a multi-edge are rejected, so the graph
  stays simple; self loops of the input are left in place; an edge's weight travels with it.
* Q_max: best maximum modularity found with the same degree sequence by hill climbing over single
  degree-preserving swaps (accepting moves that do not lower max-Q), ``qmax_steps`` proposals from
  the graph itself and as many from the random sample with the highest max-Q.  During the climb,
  max-Q is exact for graphs of at most ``_EXACT_CLIMB_N`` nodes and otherwise estimated by
  single-vertex moves from the current best partition; the best graph of each climb is then
  re-evaluated with :func:`solve_max_q`.  Q_max is the maximum over Q, the samples and the climbs
  (so never below Q).
* If Q_max - Q_rand < 1e-12 (e.g. no swap is possible) qm is NaN.

Deterministic given ``rng`` (an int seed or a Generator; None means seed 0).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ._heuristic import local_moves
from .exact import solve_max_q
from .newman import modularity_matrix

__all__ = ["QmResult", "qm", "randomise"]

_EXACT_CLIMB_N = 18
_DEFAULT_QMAX_STEPS = 100


class QmResult(NamedTuple):
    qm: float
    q: float
    q_rand: float
    q_max: float
    null_model: str


@njit(cache=True)
def _swap_edges(src, dst, exists, picks, flips, directed):
    """Apply attempted double-edge swaps in place; returns number of accepted swaps."""
    acc = 0
    for t in range(picks.shape[0]):
        i = picks[t, 0]
        j = picks[t, 1]
        if i == j:
            continue
        a = src[i]
        b = dst[i]
        c = src[j]
        d = dst[j]
        if not directed and flips[t]:
            c, d = d, c
        if a == d or c == b:
            continue
        if exists[a, d] or exists[c, b]:
            continue
        exists[a, b] = False
        exists[c, d] = False
        if not directed:
            exists[b, a] = False
            exists[d, c] = False
            exists[d, a] = True
            exists[b, c] = True
        exists[a, d] = True
        exists[c, b] = True
        src[i] = a
        dst[i] = d
        src[j] = c
        dst[j] = b
        acc += 1
    return acc


def _edge_list(a: np.ndarray, directed: bool):
    if directed:
        mask = a != 0
    else:
        mask = np.triu(a != 0, 1)
    np.fill_diagonal(mask, False)
    src, dst = np.nonzero(mask)
    w = a[src, dst]
    return src.astype(np.int64), dst.astype(np.int64), w.astype(np.float64)


def _build(n, src, dst, w, loops, directed):
    a = np.zeros((n, n))
    a[src, dst] = w
    if not directed:
        a[dst, src] = w
    a[np.diag_indices(n)] = loops
    return a


class _Swapper:
    def __init__(self, a: np.ndarray, directed: bool):
        self.n = a.shape[0]
        self.directed = directed
        self.loops = np.diag(a).copy()
        self.src, self.dst, self.w = _edge_list(a, directed)
        self.exists = (a != 0).copy()
        np.fill_diagonal(self.exists, False)

    def copy(self) -> "_Swapper":
        new = object.__new__(_Swapper)
        new.n, new.directed, new.loops, new.w = self.n, self.directed, self.loops, self.w
        new.src, new.dst, new.exists = self.src.copy(), self.dst.copy(), self.exists.copy()
        return new

    def swap(self, rng: np.random.Generator, attempts: int) -> int:
        m = self.src.shape[0]
        if m < 2 or attempts <= 0:
            return 0
        picks = rng.integers(0, m, size=(attempts, 2))
        flips = rng.integers(0, 2, size=attempts).astype(np.bool_)
        return int(_swap_edges(self.src, self.dst, self.exists, picks, flips, self.directed))

    def adjacency(self) -> np.ndarray:
        return _build(self.n, self.src, self.dst, self.w, self.loops, self.directed)


def randomise(adjacency, directed: bool = False, rng=None, swaps_per_edge: int = 20) -> np.ndarray:
    """One degree-preserving randomisation (see module docstring)."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(0 if rng is None else rng)
    sw = _Swapper(np.asarray(adjacency, dtype=np.float64), directed)
    sw.swap(rng, swaps_per_edge * sw.src.shape[0])
    return sw.adjacency()


def _climb_value(a: np.ndarray, directed: bool, lab: np.ndarray, exact_limit: int):
    """(max-Q estimate, labels) used inside the hill climb."""
    if a.shape[0] <= _EXACT_CLIMB_N:
        r = solve_max_q(a, directed, exact_limit=exact_limit)
        return r.q, r.communities
    B, M = modularity_matrix(a, directed)
    if M == 0.0:
        return 0.0, np.arange(a.shape[0], dtype=np.int64)
    W = (B + B.T) / M
    np.fill_diagonal(W, 0.0)
    const = np.trace(B) / M
    best_v, best_l = -np.inf, lab
    for start in (lab, np.arange(a.shape[0], dtype=np.int64)):
        l2 = local_moves(W, np.asarray(start, dtype=np.int64))
        same = l2[:, None] == l2[None, :]
        v = const + float(np.triu(W * same, 1).sum())
        if v > best_v:
            best_v, best_l = v, l2
    return best_v, best_l


def _hill_climb(sw: _Swapper, q0: float, lab0: np.ndarray, directed: bool, rng, steps: int,
                exact_limit: int) -> np.ndarray:
    """Greedy climb over single swaps; returns the adjacency of the best graph visited."""
    cur_q, cur_lab = q0, lab0
    best_adj = sw.adjacency()
    for _ in range(steps):
        trial = sw.copy()
        if trial.swap(rng, 1) == 0:
            continue
        adj = trial.adjacency()
        qv, lab = _climb_value(adj, directed, cur_lab, exact_limit)
        if qv >= cur_q - 1e-12:
            sw.src, sw.dst, sw.exists = trial.src, trial.dst, trial.exists
            if qv > cur_q + 1e-12:
                best_adj = adj
            cur_q, cur_lab = max(qv, cur_q), lab
    return best_adj


def qm(adjacency, directed: bool = False, *, q=None, n_samples: int = 20, rng=None,
       qmax_steps: int = _DEFAULT_QMAX_STEPS, exact_limit: int = 24) -> QmResult:
    """Normalised modularity Qm (Kashtan & Alon 2005); see the module docstring for the null model."""
    a = np.asarray(adjacency, dtype=np.float64)
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(0 if rng is None else rng)
    name = f"degree-preserving-swaps:n={n_samples};qmax=hillclimb:2x{qmax_steps}"
    r0 = solve_max_q(a, directed, exact_limit=exact_limit)
    q_graph = r0.q if q is None else float(q)
    base = _Swapper(a, directed)
    m = base.src.shape[0]
    sample_q = []
    best_sample = None
    for _ in range(n_samples):
        sw = base.copy()
        sw.swap(rng, 20 * m)
        rs = solve_max_q(sw.adjacency(), directed, exact_limit=exact_limit)
        sample_q.append(rs.q)
        if best_sample is None or rs.q > best_sample[0] + 1e-12:
            best_sample = (rs.q, rs.communities, sw)
    q_rand = float(np.mean(sample_q)) if sample_q else q_graph
    cands = [q_graph, r0.q] + sample_q
    starts = [(base.copy(), r0.q, r0.communities)]
    if best_sample is not None:
        starts.append((best_sample[2].copy(), best_sample[0], best_sample[1]))
    for sw, q_start, lab in starts:
        best_adj = _hill_climb(sw, q_start, lab, directed, rng, qmax_steps, exact_limit)
        cands.append(solve_max_q(best_adj, directed, exact_limit=exact_limit).q)
    q_max = float(max(cands))
    denom = q_max - q_rand
    value = (q_graph - q_rand) / denom if denom > 1e-12 else float("nan")
    return QmResult(float(value), float(q_graph), q_rand, q_max, name)
