"""Newman modularity Q of a given partition (undirected and Leicht-Newman directed).

Conventions (identical to ``networkx.community.modularity(G, communities, weight='weight')``
with ``G = nx.from_numpy_array(A, create_using=nx.Graph / nx.DiGraph)``):

* Undirected (``A`` symmetric): ``Q = 1/(2m) sum_ij (A'_ij - k_i k_j / 2m) delta(c_i, c_j)``
  where ``A' = A + diag(A)`` (a self loop of weight w adds 2w to its node's degree and counts
  w/m inside its community, as in networkx), ``k = A'.sum(1)`` and ``2m = A'.sum()``.
* Directed (Leicht & Newman 2008): ``Q = 1/m sum_ij (A_ij - k^out_i k^in_j / m) delta(c_i, c_j)``
  with ``m = A.sum()`` (self loops counted once).
* A graph with no edges (total weight 0) has ``Q = 0.0`` by convention (networkx would divide by 0).
"""
from __future__ import annotations


import numpy as np

__all__ = ["newman_q", "labels_from_communities", "canonical_labels", "modularity_matrix"]


def _as_adjacency(adjacency) -> np.ndarray:
    a = np.asarray(adjacency, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be a square matrix, got shape {a.shape}")
    return a


def canonical_labels(labels) -> np.ndarray:
    """Relabel so communities are numbered 0..k-1 in order of first appearance."""
    labels = np.asarray(labels)
    n = labels.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # unique-label index -> rank of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    return rank[inverse.reshape(-1)].astype(np.int64)


def labels_from_communities(communities, n: int) -> np.ndarray:
    """Convert an int label array or an iterable of node sets into an int label array."""
    if isinstance(communities, np.ndarray) and communities.ndim == 1 and communities.dtype.kind in "iub":
        if communities.shape[0] != n:
            raise ValueError(f"label array has length {communities.shape[0]}, expected {n}")
        return communities.astype(np.int64)
    comms = list(communities)
    if len(comms) == n and all(np.isscalar(c) and not isinstance(c, (str, bytes)) for c in comms):
        # a plain list of labels
        lab = np.asarray(comms)
        if lab.dtype.kind in "iub":
            return lab.astype(np.int64)
    labels = np.full(n, -1, dtype=np.int64)
    for ci, comm in enumerate(comms):
        for node in comm:
            node = int(node)
            if not 0 <= node < n:
                raise ValueError(f"node {node} out of range 0..{n - 1}")
            if labels[node] != -1:
                raise ValueError(f"node {node} appears in more than one community")
            labels[node] = ci
    if (labels < 0).any():
        raise ValueError("communities do not cover all nodes")
    return labels


def modularity_matrix(adjacency, directed: bool = False) -> tuple[np.ndarray, float]:
    """Return ``(B, M)`` with ``Q = sum_ij B_ij delta(c_i, c_j) / M``.

    Undirected: ``B = A' - k k^T / 2m``, ``M = 2m``; directed: ``B = A - k_out k_in^T / m``, ``M = m``.
    ``M == 0`` for a graph without edges (then B is all zeros).

    Returns
    -------
    B : numpy.ndarray
        float64[n, n]: the modularity matrix.
    M : float
        The normaliser: the sum of the (undirected: diagonal-doubled) adjacency.
    """
    a = _as_adjacency(adjacency)
    if not directed:
        a = a + np.diag(np.diag(a))
    kout = a.sum(axis=1)
    kin = a.sum(axis=0)
    total = float(a.sum())
    if total == 0.0:
        return np.zeros_like(a), 0.0
    return a - np.outer(kout, kin) / total, total


def newman_q(adjacency: np.ndarray, communities, directed: bool = False) -> float:
    """Modularity Q of the partition ``communities`` (label array or iterable of node sets).

    Returns 0.0 for a graph with no edges. See the module docstring for the exact conventions.
    """
    a = _as_adjacency(adjacency)
    n = a.shape[0]
    labels = labels_from_communities(communities, n)
    if not directed:
        a = a + np.diag(np.diag(a))
    total = float(a.sum())
    if total == 0.0 or n == 0:
        return 0.0
    lab = canonical_labels(labels)
    k = int(lab.max()) + 1
    onehot = np.zeros((n, k))
    onehot[np.arange(n), lab] = 1.0
    # within-community weight and per-community out/in strengths
    inside = float(np.einsum("ic,ij,jc->", onehot, a, onehot))
    sout = onehot.T @ a.sum(axis=1)
    sin = onehot.T @ a.sum(axis=0)
    return inside / total - float(sout @ sin) / (total * total)
