"""Numba kernel: vertex-moving local search on the pair-weight matrix W (used as a heuristic)."""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def local_moves(W, lab_in, max_rounds=100):
    """Move single vertices to the cluster (or a new singleton) with the largest gain until no move
    improves ``sum_{same cluster} W``.  Deterministic.  Returns the improved labels (0..k-1)."""
    n = W.shape[0]
    lab = lab_in.copy()
    _number_by_first_appearance(lab)
    size = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        size[lab[i]] += 1
    g = np.zeros(n + 1)
    for _ in range(max_rounds):
        moved = False
        for v in range(n):
            for c in range(n + 1):
                g[c] = 0.0
            for u in range(n):
                if u != v:
                    g[lab[u]] += W[v, u]
            own = lab[v]
            base = g[own]
            best_c = own
            best_gain = 0.0
            # an empty cluster id (for a singleton move)
            empty = -1
            for c in range(n + 1):
                if size[c] == 0:
                    empty = c
                    break
            for c in range(n + 1):
                if c == own:
                    continue
                if size[c] == 0:
                    if c != empty or size[own] == 1:
                        continue
                gain = g[c] - base
                if gain > best_gain + 1e-13:
                    best_gain = gain
                    best_c = c
            if best_c != own:
                size[own] -= 1
                size[best_c] += 1
                lab[v] = best_c
                moved = True
        if not moved:
            break
    _number_by_first_appearance(lab)
    return lab


@njit(cache=True)
def _number_by_first_appearance(lab) -> None:
    """Relabel clusters 0..k-1 in order of first appearance, in place."""
    if lab.size == 0:
        return
    remap = np.full(lab.max() + 1, -1, dtype=np.int64)
    k = 0
    for i in range(lab.size):
        if remap[lab[i]] < 0:
            remap[lab[i]] = k
            k += 1
        lab[i] = remap[lab[i]]
