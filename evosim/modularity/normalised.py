"""Chance-corrected modularity: Qm = (Q - Q_rand) / (Q_max - Q_rand) and z = (Q - Q_rand) / sd.

Kashtan & Alon (2005) normalise a network's maximum modularity Q by the networks of a null model
with the same degree sequence: Q_rand, the mean max-Q of random members, and Q_max, the largest
max-Q of any member.  ``z`` needs no Q_max: how many null standard deviations Q lies above Q_rand.

* Q and every null sample's Q are computed by the same method, so their difference is not a
  difference of methods: the exact maximum (:func:`solve_max_q`) for 0/1 graphs, annealing over
  partitions for dense weighted ones, where the exact search costs 0.1-0.5 s a graph.
* Q_rand and Q_max depend on the network only through its null family (its degree sequence; its
  layers' weights): samples start from the family's canonical member with a generator seeded by
  the seed and the family, so networks of one family share them (and a cache can too).
* Q_max is found by annealing graph and partition together (:mod:`._anneal_kernel`): restarts from
  the canonical member and from null samples, each ``qmax_sweeps`` moves per vertex and movable
  edge or weight; the best graph is then solved exactly where it is small enough.  Q_max is at
  least Q and every sample's Q.

What the maximising graphs look like: for circuits they are disjoint unions of a few dense
components whose degree sums are as equal as the degrees allow (the modular G1 circuit: three
components with degree sums 12, 12 and 14, Q_max = 1 - (12^2 + 12^2 + 14^2) / 38^2 = 0.6648,
confirmed by an exact MILP).  No circuit can be disconnected, so Q_max is an upper bound that
evolved circuits cannot reach, and Qm is smaller than with a Q_max restricted to connected graphs
or found by a weaker search (a 2 x 100-step hill climb gave 0.51-0.61 on the same circuit).  Qm
levels from other studies therefore compare with ours only as far as their Q_max searches do;
differences between conditions measured the same way compare directly.

Deterministic given the seed.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._anneal_kernel import PARTITIONS, REWIRE, anneal
from .exact import solve_max_q
from .newman import newman_q
from .null_models import DegreePreserving, LayerPermutation, NullModel

__all__ = ["QmResult", "NullStatistics", "qm", "null_statistics", "network_q", "combine",
           "q_max", "anneal_max_q", "q_method"]

# Annealing temperatures (hot, cold), chosen by measurement: rewiring walks change Q by about an
# edge (1/m) a move; weight permutations and partitions of dense weighted graphs by much less.
_REWIRE_T = (0.1, 1e-3)     # modular G1 circuit: Q_max 0.6648 from 10 of 10 seeds
_PERMUTE_T = (0.03, 1e-5)   # random 8-8-4-2-1 MLP: 6 of 6 seeds within 0.004 of the best known
_PARTITION_T = (0.002, 1e-4)
QMAX_RESTARTS, QMAX_SWEEPS = 4, 300


class QmResult(NamedTuple):
    """One network's modularity against its null model."""

    qm: float          # (q - q_rand) / (q_max - q_rand); NaN if q_max == q_rand
    q: float           # max Q of the network (by ``q_method``)
    q_rand: float      # mean max Q of the null samples
    q_rand_sd: float   # their sample standard deviation
    q_max: float       # the largest max Q found among the null model's graphs
    z: float           # (q - q_rand) / q_rand_sd; NaN if the samples do not vary
    null_model: str    # the null model and the effort, as recorded in run files
    q_method: str      # how q and the samples' Q were maximised


def _stream(rng: np.random.Generator) -> np.uint64:
    return np.uint64(rng.integers(0, 2**63 - 1))


def anneal_max_q(adjacency, directed: bool = False, *, rng=None, restarts: int = 8,
                 steps: int = 20_000) -> tuple[float, np.ndarray]:
    """(Q, labels): the best partition found by annealing, restarts from single vertices.

    A heuristic for dense weighted graphs, where the exact search is slow: on 20 random 23-unit
    MLP weight graphs it found the exact maximum in 16 and was at most 0.005 below it.

    Returns
    -------
    q : float
        Newman's Q of the best partition found, recomputed by ``newman_q``.
    labels : numpy.ndarray
        int64[n]: the community of each vertex (labels < n, not renumbered).
    """
    a = np.ascontiguousarray(adjacency, dtype=np.float64)
    rng = _generator(rng)
    directed = directed and not np.array_equal(a, a.T)
    best = (-math.inf, np.arange(a.shape[0], dtype=np.int64))
    no = np.zeros((0, 2), dtype=np.int64)
    for _ in range(restarts):
        q, _, labels = anneal(a.copy(), no, np.arange(a.shape[0], dtype=np.int64), directed,
                              PARTITIONS, np.zeros((0, 4), dtype=np.int64), steps,
                              *_PARTITION_T, _stream(rng))
        if q > best[0] + 1e-12:
            best = (q, labels)
    labels = best[1]
    return newman_q(a, labels, directed), labels


def q_max(adjacency, directed: bool = False, *, null: NullModel | None = None, rng=None,
          restarts: int = QMAX_RESTARTS, sweeps: int = QMAX_SWEEPS, starts=(),
          exact_limit: int = 24) -> float:
    """The largest max-Q found among the null model's graphs by annealing graph and partition
    together: one restart from the network itself, the others from ``starts`` (null samples)
    or the network again, each from single-vertex communities, each of ``sweeps`` moves per
    vertex and movable edge or weight."""
    a = np.ascontiguousarray(adjacency, dtype=np.float64)
    null = null or DegreePreserving()
    directed = directed and not np.array_equal(a, a.T)
    rng = _generator(rng)
    n = a.shape[0]
    best_q, best_a = -math.inf, a
    origins = [a, *starts]
    for k in range(restarts):
        g = np.array(origins[k % len(origins)], dtype=np.float64)
        edges, blocks = null.moves(g, directed)
        cells = int(((blocks[:, 1] - blocks[:, 0]) * (blocks[:, 3] - blocks[:, 2])).sum())
        steps = sweeps * (n + len(edges) + cells)
        q, graph, _ = anneal(g, edges, np.arange(n, dtype=np.int64), directed, null.kind,
                             blocks, steps, *(_REWIRE_T if null.kind == REWIRE else _PERMUTE_T),
                             _stream(rng))
        if q > best_q + 1e-12:
            best_q, best_a = q, graph
    if isinstance(null, DegreePreserving) and n <= exact_limit:
        best_q = max(best_q, solve_max_q(best_a, directed, exact_limit=exact_limit).q)
    return float(best_q)


class NullStatistics(NamedTuple):
    """What Qm needs of a null model's family of graphs: a function of its key alone."""

    q_rand: float
    q_rand_sd: float
    q_max: float
    null_model: str


def null_statistics(adjacency, directed: bool = False, *, null: NullModel | None = None,
                    n_samples: int = 20, seed: int = 0, qmax_restarts: int = QMAX_RESTARTS,
                    qmax_sweeps: int = QMAX_SWEEPS, exact_limit: int = 24) -> NullStatistics:
    """Q_rand (mean, sd) of ``n_samples`` random members of the network's null family, and its
    Q_max.  Samples start from the family's canonical member and draw from a generator seeded by
    ``seed`` and the family's key, so every network of one family gets the same figures."""
    a = np.ascontiguousarray(adjacency, dtype=np.float64)
    null = null or DegreePreserving()
    null.check(a)
    key = null.key(a, directed)
    rng = np.random.default_rng([int(seed) % 2**63, len(key), *(k % 2**63 for k in key)])
    start = null.canonical(a, directed)
    samples = [null.sample(start, directed, rng) for _ in range(n_samples)]
    values = np.array([_max_q(s, directed, null, rng, exact_limit) for s in samples])
    top = q_max(start, directed, null=null, rng=rng, restarts=qmax_restarts, sweeps=qmax_sweeps,
                starts=samples[:qmax_restarts - 1], exact_limit=exact_limit)
    return NullStatistics(
        q_rand=float(values.mean()) if values.size else math.nan,
        q_rand_sd=float(values.std(ddof=1)) if values.size > 1 else math.nan,
        q_max=max(top, float(values.max()) if values.size else -math.inf),
        null_model=f"{null.name}:n={n_samples};q_max=anneal:{qmax_restarts}x{qmax_sweeps}sweeps")


def q_method(null: NullModel | None) -> str:
    """How Qm maximises Q for this null model: exactly for 0/1 graphs, by annealing otherwise."""
    return "anneal-partitions" if isinstance(null, LayerPermutation) else "exact-bb"


def qm(adjacency, directed: bool = False, *, null: NullModel | None = None, q=None,
       n_samples: int = 20, rng: int = 0, qmax_restarts: int = QMAX_RESTARTS,
       qmax_sweeps: int = QMAX_SWEEPS, exact_limit: int = 24) -> QmResult:
    """Qm, z and their parts for one network (see the module docstring).

    ``null``: :class:`DegreePreserving` (the default; 0/1 graphs) or :class:`LayerPermutation`
    (weighted layered graphs).  ``q``: the network's max Q if already known (0/1 graphs: the exact
    maximum).  ``rng``: an int seed."""
    a = np.ascontiguousarray(adjacency, dtype=np.float64)
    stats = null_statistics(a, directed, null=null, n_samples=n_samples, seed=rng,
                            qmax_restarts=qmax_restarts, qmax_sweeps=qmax_sweeps,
                            exact_limit=exact_limit)
    if q is None or isinstance(null, LayerPermutation):
        q = network_q(a, directed, null=null, seed=rng, exact_limit=exact_limit)
    return combine(float(q), stats, q_method(null))


def network_q(adjacency, directed: bool = False, *, null: NullModel | None = None, seed: int = 0,
              exact_limit: int = 24) -> float:
    """The network's max Q by the method its null samples are measured with (``q_method``)."""
    return _max_q(np.asarray(adjacency, dtype=np.float64), directed, null,
                  np.random.default_rng(seed), exact_limit)


def combine(q: float, stats: NullStatistics, method: str) -> QmResult:
    """The Qm record of a network of max Q ``q`` in a family with these statistics."""
    top = max(stats.q_max, q)
    span = top - stats.q_rand
    sd = stats.q_rand_sd
    return QmResult(qm=(q - stats.q_rand) / span if span > 1e-12 else math.nan, q=q,
                    q_rand=stats.q_rand, q_rand_sd=sd, q_max=top,
                    z=(q - stats.q_rand) / sd if sd > 1e-12 else math.nan,
                    null_model=stats.null_model, q_method=method)


def _max_q(graph, directed, null, rng, exact_limit) -> float:
    if isinstance(null, LayerPermutation):
        return anneal_max_q(graph, directed, rng=rng)[0]
    return solve_max_q(graph, directed, exact_limit=exact_limit).q


def _generator(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(
        0 if rng is None else rng)
