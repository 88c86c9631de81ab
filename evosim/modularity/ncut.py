"""Spectral clusterability (Filan et al. 2021, "Clusterability in neural networks").

Newman's Q asks how much better than a degree-matched random graph the best partition is; Filan et
al. ask instead how cheaply the *weighted* graph splits into k clusters, and whether that is cheaper
than for the same graph with its weights shuffled.  Giving both lets an analysis check whether the
two notions of modularity agree on evolved and trained networks.

* Weights: ``|w|``, symmetrised as ``|w| + |w|^T`` (a connection counts whichever way it points);
  the diagonal is ignored.
* Clustering: the k eigenvectors of the normalised Laplacian ``I - D^-1/2 W D^-1/2`` with the
  smallest eigenvalues, rescaled by ``D^-1/2`` (the random-walk embedding, as in scikit-learn's
  spectral clustering), then k-means (``scipy.cluster.vq.kmeans2``, k-means++ starts) from
  ``_N_STARTS`` fixed seeds.  Of those labellings the one with the lowest n-cut is kept: the
  measure is the n-cut a spectral clustering achieves, and k-means' own distortion is only a proxy
  for it.  Vertices without any connection are left out of the clustering (label -1): they have no
  volume and cut nothing.
* ``n-cut = sum_c cut(c, rest) / vol(c)``, ``vol(c)`` = the summed weighted degree of c.
* p-value: the fraction of ``n_shuffles`` networks with the nonzero (symmetrised) weights permuted
  among the existing edges (same graph) whose n-cut is <= the observed one.  With all weights equal
  (e.g. 0/1 circuits) every shuffle is the graph itself and p = 1: the test needs weights.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from scipy.cluster.vq import kmeans2

__all__ = ["NcutResult", "ncut", "ncut_value", "spectral_labels"]

_N_STARTS = 10


class NcutResult(NamedTuple):
    ncut: float
    p_value: float
    labels: np.ndarray


def _symmetric(weights: np.ndarray) -> np.ndarray:
    w = np.abs(np.asarray(weights, dtype=np.float64))
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"weights: expected a square matrix, got shape {w.shape}")
    w = w + w.T
    np.fill_diagonal(w, 0.0)
    return w


def ncut_value(weights: np.ndarray, labels: np.ndarray) -> float:
    """n-cut of a labelling of the symmetrised graph; vertices labelled -1 and clusters without
    volume are skipped."""
    return _ncut(_symmetric(weights), np.asarray(labels))


def _ncut(w: np.ndarray, labels: np.ndarray) -> float:
    degree = w.sum(axis=1)
    total = 0.0
    for c in np.unique(labels[labels >= 0]):
        inside = labels == c
        vol = degree[inside].sum()
        if vol > 0:
            total += w[np.ix_(inside, ~inside)].sum() / vol
    return float(total)


def spectral_labels(weights: np.ndarray, k: int = 2) -> np.ndarray:
    """Spectral clustering of the symmetrised graph into (at most) k clusters; -1 marks vertices
    with no connection.  Deterministic."""
    return _spectral_labels(_symmetric(weights), k)


def _spectral_labels(w: np.ndarray, k: int) -> np.ndarray:
    labels = np.full(w.shape[0], -1, dtype=np.int64)
    active = np.flatnonzero(w.sum(axis=1) > 0)
    if active.size < k:
        raise ValueError(f"k = {k} clusters need at least {k} connected vertices, "
                         f"the graph has {active.size}")
    w = w[np.ix_(active, active)]
    d_inv_sqrt = 1.0 / np.sqrt(w.sum(axis=1))
    laplacian = np.eye(active.size) - d_inv_sqrt[:, None] * w * d_inv_sqrt[None, :]
    _, vectors = np.linalg.eigh(laplacian)
    embedding = vectors[:, :k] * d_inv_sqrt[:, None]
    best, best_value = None, np.inf
    for seed in range(_N_STARTS):
        with warnings.catch_warnings():  # an empty cluster just means fewer clusters
            warnings.simplefilter("ignore")
            _, found = kmeans2(embedding, k, minit="++", seed=seed)
        value = _ncut(w, found)
        if value < best_value - 1e-12:
            best, best_value = found, value
    labels[active] = _first_appearance(best)
    return labels


def _first_appearance(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0, 1, ... in order of first appearance (so results compare directly)."""
    number: dict[int, int] = {}
    return np.array([number.setdefault(int(c), len(number)) for c in labels], dtype=np.int64)


def ncut(weights: np.ndarray, k: int = 2, n_shuffles: int = 50, rng=None) -> NcutResult:
    """n-cut of the spectral clustering of ``|weights|`` into k clusters and its shuffle p-value
    (NaN when ``n_shuffles`` is 0).  ``rng``: a Generator or an int seed (None: seed 0)."""
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(0 if rng is None else rng)
    w = _symmetric(weights)
    labels = _spectral_labels(w, k)
    observed = _ncut(w, labels)
    if n_shuffles <= 0:
        return NcutResult(observed, float("nan"), labels)
    rows, cols = np.nonzero(np.triu(w, 1))
    values = w[rows, cols]
    at_most = 0
    for _ in range(n_shuffles):
        shuffled = np.zeros_like(w)
        shuffled[rows, cols] = rng.permutation(values)
        shuffled = shuffled + shuffled.T
        at_most += _ncut(shuffled, _spectral_labels(shuffled, k)) <= observed + 1e-12
    return NcutResult(observed, at_most / n_shuffles, labels)
