"""Random test/benchmark graphs shaped like the simulator's networks (not part of the public API)."""
from __future__ import annotations

import numpy as np


def random_circuit_graph(rng: np.random.Generator, n_inputs: int = 4, n_gates: int = 12,
                         locality: float | None = None) -> np.ndarray:
    """Undirected simple functional graph of a random feed-forward NAND circuit.

    Gate g (node n_inputs + g) reads two sources among the inputs and lower-numbered gates
    (uniformly, or, if ``locality`` is given, at a geometric(locality) distance below it, which
    makes most gates functional); the output is the last gate; only nodes with a path to the output
    are kept.
    """
    n = n_inputs + n_gates
    src = np.zeros((n_gates, 2), dtype=np.int64)
    for g in range(n_gates):
        node = n_inputs + g
        if locality is None:
            src[g] = rng.integers(0, node, size=2)
        else:
            src[g] = np.maximum(node - rng.geometric(locality, size=2), 0)
    keep = np.zeros(n, dtype=bool)
    keep[n - 1] = True
    for node in range(n - 1, n_inputs - 1, -1):
        if keep[node]:
            keep[src[node - n_inputs]] = True
    a = np.zeros((n, n))
    for g in range(n_gates):
        node = n_inputs + g
        if keep[node]:
            for s in src[g]:
                a[node, s] = a[s, node] = 1.0
    idx = np.flatnonzero(keep)
    return a[np.ix_(idx, idx)]


def random_layered_graph(rng: np.random.Generator, layers=(8, 8, 4, 2, 1), density: float = 0.5) -> np.ndarray:
    """Directed functional graph of a random layered net (edges between adjacent layers only).

    Only nodes with a path to the output layer are kept.
    """
    sizes = list(layers)
    n = sum(sizes)
    offs = np.concatenate([[0], np.cumsum(sizes)])
    a = np.zeros((n, n))
    for l in range(len(sizes) - 1):
        blk = rng.random((sizes[l], sizes[l + 1])) < density
        a[offs[l]:offs[l + 1], offs[l + 1]:offs[l + 2]] = blk
    keep = np.zeros(n, dtype=bool)
    keep[offs[-2]:offs[-1]] = True
    for l in range(len(sizes) - 2, -1, -1):
        for i in range(offs[l], offs[l + 1]):
            if (a[i, offs[l + 1]:offs[l + 2]].astype(bool) & keep[offs[l + 1]:offs[l + 2]]).any():
                keep[i] = True
    idx = np.flatnonzero(keep)
    return a[np.ix_(idx, idx)]
