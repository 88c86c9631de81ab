"""Null models of Qm: the random networks a network's modularity is compared with.

* :class:`DegreePreserving` (0/1 graphs: evolved circuits and retinas): random simple graphs with
  the same degrees (undirected) or the same in- and out-degrees (directed), made by ``20 * m``
  attempted double-edge swaps (Maslov & Sneppen 2002); swaps that would make a self loop or a
  multi-edge are refused.
* :class:`LayerPermutation` (weighted layered networks: trained MLPs): the weights of each layer
  (all cells of the matrix between two consecutive layers, zeros included) permuted at random.
  The architecture and each layer's weight distribution stay, so a randomly initialised network
  is itself a draw from this null, and its chance-corrected modularity averages 0.

Each model also names what its family of graphs depends on (``key``: the degree sequence, the
layers' weight multisets) and a fixed member of it (``canonical``), so Q_rand and Q_max are a
function of the key alone and networks that share it share them; and it tells the annealer of
:mod:`._anneal_kernel` how it may change a graph, which is how Q_max is found.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ._anneal_kernel import PERMUTE, REWIRE

__all__ = ["NullModel", "DegreePreserving", "LayerPermutation", "edge_list"]

_NO_BLOCKS = np.zeros((0, 4), dtype=np.int64)
_NO_EDGES = np.zeros((0, 2), dtype=np.int64)


def edge_list(a: np.ndarray, directed: bool) -> np.ndarray:
    """int64[m, 2]: the (off-diagonal) edges of a graph, each undirected edge once (i < j)."""
    mask = (a != 0) if directed else np.triu(a != 0, 1)
    mask = mask & ~np.eye(a.shape[0], dtype=bool)
    return np.argwhere(mask).astype(np.int64)


def _degrees(a: np.ndarray, directed: bool) -> np.ndarray:
    """int64[n, 2]: (out, in) degrees sorted decreasingly (undirected: degree twice)."""
    out, into = (a != 0).sum(axis=1), (a != 0).sum(axis=0)
    pairs = np.stack([out, into if directed else out], axis=1).astype(np.int64)
    return pairs[np.lexsort((-pairs[:, 1], -pairs[:, 0]))]


@njit(cache=True)
def _swap_edges(a, edges, picks, flips, directed) -> None:
    """Attempted double-edge swaps on a 0/1 matrix and its edge list, in place."""
    for t in range(picks.shape[0]):
        i, j = picks[t, 0], picks[t, 1]
        if i == j:
            continue
        x, y = edges[i, 0], edges[i, 1]
        u, v = edges[j, 0], edges[j, 1]
        if not directed and flips[t]:
            u, v = v, u
        if x == v or u == y or a[x, v] != 0.0 or a[u, y] != 0.0:
            continue
        for p, s, w in ((x, y, 0.0), (u, v, 0.0), (x, v, 1.0), (u, y, 1.0)):
            a[p, s] = w
            if not directed:
                a[s, p] = w
        edges[i, 0], edges[i, 1] = x, v
        edges[j, 0], edges[j, 1] = u, y


class NullModel:
    """What Qm needs of a null model: a name, random members, and how the annealer moves."""

    name: str
    kind: int

    def check(self, a: np.ndarray) -> None:
        """Raise ValueError if the model does not apply to this graph."""

    def key(self, a: np.ndarray, directed: bool) -> tuple[int, ...]:
        """What the family of ``a`` depends on, as integers (a seed for its random members).

        Returns
        -------
        key : tuple of int
            The integers that identify the family (e.g. the degree sequence).
        """
        raise NotImplementedError

    def canonical(self, a: np.ndarray, directed: bool) -> np.ndarray:
        """One fixed member of the family of ``a``, a function of ``key`` alone."""
        raise NotImplementedError

    def sample(self, a: np.ndarray, directed: bool, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def moves(self, a: np.ndarray, directed: bool) -> tuple[np.ndarray, np.ndarray]:
        """(edges, blocks) for the annealing kernel.

        Returns
        -------
        edges : numpy.ndarray
            int64[m, 2]: the edges the annealer may rewire (empty if it rewires none).
        blocks : numpy.ndarray
            int64[k, 4]: (row0, row1, col0, col1) rectangles whose cells it may permute (or empty).
        """
        raise NotImplementedError


@dataclass(frozen=True)
class DegreePreserving(NullModel):
    """Random simple graphs with the same (in- and out-) degrees; for 0/1 graphs."""

    swaps_per_edge: int = 20
    name = "degree-preserving-rewiring"
    kind = REWIRE

    def check(self, a: np.ndarray) -> None:
        if not np.isin(a, (0.0, 1.0)).all():
            raise ValueError("degree-preserving rewiring needs a 0/1 graph; a weighted "
                             "network needs a weighted null model (LayerPermutation)")
        if np.diag(a).any():
            raise ValueError("degree-preserving rewiring: the graph has self loops")

    def key(self, a, directed):
        return tuple(int(d) for d in _degrees(a, directed).ravel())

    def canonical(self, a, directed):
        """The Havel-Hakimi (directed: Kleitman-Wang) graph of the sorted degree sequence."""
        import networkx as nx

        degrees = _degrees(a, directed)
        if directed:
            g = nx.directed_havel_hakimi_graph(degrees[:, 1].tolist(), degrees[:, 0].tolist())
        else:
            g = nx.havel_hakimi_graph(degrees[:, 0].tolist())
        return nx.to_numpy_array(g, nodelist=range(len(degrees)))

    def sample(self, a, directed, rng):
        out = np.array(a, dtype=np.float64)
        edges = edge_list(out, directed)
        attempts = self.swaps_per_edge * len(edges)
        if len(edges) >= 2 and attempts:
            picks = rng.integers(0, len(edges), size=(attempts, 2))
            flips = rng.integers(0, 2, size=attempts).astype(np.bool_)
            _swap_edges(out, edges, picks, flips, directed)
        return out

    def moves(self, a, directed):
        return edge_list(a, directed), _NO_BLOCKS


@dataclass(frozen=True)
class LayerPermutation(NullModel):
    """The weights between each pair of consecutive layers permuted (zeros included); for the
    symmetric weight graphs of layered networks whose units are numbered layer by layer."""

    sizes: tuple[int, ...]
    name = "layer-weight-permutation"
    kind = PERMUTE

    def blocks(self) -> np.ndarray:
        """int64[k, 4]: the (row0, row1, col0, col1) rectangle of each layer's weights."""
        start = np.concatenate([[0], np.cumsum(self.sizes)])
        return np.array([(start[l], start[l + 1], start[l + 1], start[l + 2])
                         for l in range(len(self.sizes) - 1)], dtype=np.int64).reshape(-1, 4)

    def check(self, a: np.ndarray) -> None:
        n = int(sum(self.sizes))
        if a.shape != (n, n):
            raise ValueError(f"layer permutation: layers {list(self.sizes)} have {n} units, the "
                             f"graph {a.shape[0]}")
        inside = np.zeros(a.shape, dtype=bool)
        for r0, r1, c0, c1 in self.blocks():
            inside[r0:r1, c0:c1] = inside[c0:c1, r0:r1] = True
        if a[~inside].any():
            raise ValueError("layer permutation: the graph has weights outside consecutive layers")
        if not np.array_equal(a, a.T):
            raise ValueError("layer permutation: expected a symmetric weight graph (|w| both ways)")

    def key(self, a, directed):
        values = np.concatenate([np.sort(a[r0:r1, c0:c1], None) for r0, r1, c0, c1
                                 in self.blocks()])
        return (*self.sizes, *np.ascontiguousarray(values).view(np.int64).tolist())

    def canonical(self, a, directed):
        """Each layer's weights in increasing order, row by row."""
        out = np.zeros_like(a, dtype=np.float64)
        for r0, r1, c0, c1 in self.blocks():
            block = np.sort(a[r0:r1, c0:c1], None).reshape(r1 - r0, c1 - c0)
            out[r0:r1, c0:c1] = block
            out[c0:c1, r0:r1] = block.T
        return out

    def sample(self, a, directed, rng):
        out = np.array(a, dtype=np.float64)
        for r0, r1, c0, c1 in self.blocks():
            block = out[r0:r1, c0:c1]
            shuffled = rng.permutation(block.ravel()).reshape(block.shape)
            out[r0:r1, c0:c1] = shuffled
            out[c0:c1, r0:r1] = shuffled.T
        return out

    def moves(self, a, directed):
        return _NO_EDGES, self.blocks()
