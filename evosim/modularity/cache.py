"""Memoisation of max-Q keyed on the exact graph, and of Qm's null statistics keyed on the
graph's null family (its degree sequence): a run's networks share a few dozen families."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .exact import MaxQResult, solve_max_q
from .null_models import DegreePreserving, NullModel
from .normalised import QmResult, combine, network_q, null_statistics, q_method

__all__ = ["ModularityCache"]


class ModularityCache:
    """Memoises max-Q (and Qm) by graph so an unchanged best network costs nothing.

    The key is the graph itself (shape and the bytes of the adjacency as float64, plus the
    settings), not an isomorphism class, so a hit returns exactly what a miss would compute (same
    partition labels).  Least-recently-used entries are evicted beyond ``maxsize``.
    ``hits`` / ``misses`` count lookups of both kinds.
    """

    def __init__(self, directed: bool = False, exact_limit: int = 24, maxsize: int = 4096):
        self.directed = bool(directed)
        self.exact_limit = int(exact_limit)
        self.maxsize = int(maxsize)
        self.hits = 0
        self.misses = 0
        self._store: OrderedDict = OrderedDict()

    @staticmethod
    def _graph_key(adjacency) -> tuple[np.ndarray, tuple]:
        a = np.ascontiguousarray(adjacency, dtype=np.float64)
        return a, (a.shape, a.tobytes())

    def _get(self, key, compute):
        try:
            value = self._store[key]
        except KeyError:
            self.misses += 1
            value = compute()
            self._store[key] = value
            if len(self._store) > self.maxsize:
                self._store.popitem(last=False)
            return value
        self.hits += 1
        self._store.move_to_end(key)
        return value

    def max_q(self, adjacency) -> MaxQResult:
        a, gk = self._graph_key(adjacency)
        res = self._get(("maxq", gk), lambda: solve_max_q(a, self.directed, exact_limit=self.exact_limit))
        return res._replace(communities=res.communities.copy())

    def qm(self, adjacency, n_samples: int = 20, seed: int = 0, null: NullModel | None = None,
           qmax_restarts: int = 4, qmax_sweeps: int = 300) -> QmResult:
        """:func:`evosim.modularity.qm` of the graph; the null statistics are memoised by the
        graph's null family (its degree sequence), which many networks of a run share."""
        a, _ = self._graph_key(adjacency)
        model = null or DegreePreserving()
        settings = (int(n_samples), int(seed), int(qmax_restarts), int(qmax_sweeps))
        family = (model, model.key(a, self.directed), self.directed, settings)
        stats = self._get(("null", family), lambda: null_statistics(
            a, self.directed, null=model, n_samples=n_samples, seed=seed,
            qmax_restarts=qmax_restarts, qmax_sweeps=qmax_sweeps, exact_limit=self.exact_limit))
        if isinstance(model, DegreePreserving):
            q = self.max_q(a).q
        else:
            q = self._get(("network-q", self._graph_key(a)[1], int(seed)), lambda: network_q(
                a, self.directed, null=model, seed=seed, exact_limit=self.exact_limit))
        return combine(q, stats, q_method(model))

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        self._store.clear()
        self.hits = self.misses = 0
