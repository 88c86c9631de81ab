"""Numba kernel: exact clique-partitioning / modularity maximisation by Russian-doll branch and bound.

Problem: given a symmetric pair-weight matrix W (zero diagonal), find a partition P of the vertices
maximising  val(P) = sum_{i<j, same cluster} W_ij.   (Q = const + val, see exact.py.)

Russian-doll search: with vertices in a fixed order 0..n-1, let opt[k] be the optimum of the
sub-problem restricted to the suffix {k, ..., n-1}.  The suffix problems are solved exactly for
k = n-1, n-2, ..., 0, each by depth-first branch and bound that assigns vertices k, k+1, ... in
order (vertex j either joins one of the clusters opened so far or opens a new one: each partition
is generated exactly once).  With vertices k..j-1 assigned (value ``cur``), every completion has

    val <= cur + sum_{u >= j} max(0, max_c G[u, c]) + opt[j],        G[u, c] = sum_{w in c} W_uw

because an unassigned vertex u joins at most one existing cluster (gain G[u, c], or 0 for a new
one) and the pairs among the unassigned vertices form a partition of the suffix {j..n-1}, worth at
most opt[j].  A branch is cut when this bound is <= incumbent + 1e-12 (distinct partition values
of the graphs we handle differ by far more), so the search is exhaustive up to that tolerance and
the result is optimal.  The incumbent of suffix k starts from the optimum of suffix k+1 with
vertex k added at its best place, or a heuristic partition passed in, whichever is better.
Branching order and tie-breaking are fixed, so the result is deterministic.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_EPS = 1e-12


@njit(cache=True)
def russian_doll_bb(W, heur_lab, node_limit):
    """Return (value, labels, nodes_explored, complete).

    ``heur_lab``: a heuristic partition (labels, any ints) used as an extra incumbent for every
    suffix, or an empty array.  ``node_limit`` <= 0 means unlimited; if it is reached the search
    stops and ``complete`` is False (result then not proven optimal).
    """
    n = W.shape[0]
    opt = np.zeros(n + 1)
    best_all = np.zeros((n + 1, n), dtype=np.int64)
    G = np.zeros((n + 1, n, n + 1))
    lab = np.zeros(n, dtype=np.int64)
    ncl = np.zeros(n + 1, dtype=np.int64)
    curv = np.zeros(n + 1)
    opts = np.zeros((n + 1, n + 1), dtype=np.int64)
    gains = np.zeros(n + 1)
    nopt = np.zeros(n + 1, dtype=np.int64)
    pos = np.zeros(n + 1, dtype=np.int64)
    tmp_lab = np.zeros(n, dtype=np.int64)
    best_lab = np.zeros(n, dtype=np.int64)
    have_heur = heur_lab.shape[0] == n
    nodes = 0
    complete = True
    for k in range(n - 1, -1, -1):
        # ---- incumbent: optimum of suffix k+1 plus vertex k at its best place
        nc_prev = 0
        for u in range(k + 1, n):
            if best_all[k + 1, u] + 1 > nc_prev:
                nc_prev = best_all[k + 1, u] + 1
        for c in range(nc_prev + 1):
            gains[c] = 0.0
        for u in range(k + 1, n):
            gains[best_all[k + 1, u]] += W[k, u]
        bc = nc_prev
        bg = 0.0
        for c in range(nc_prev):
            if gains[c] > bg + _EPS:
                bg = gains[c]
                bc = c
        best = opt[k + 1] + bg
        for u in range(k + 1, n):
            best_lab[u] = best_all[k + 1, u]
        best_lab[k] = bc
        if have_heur:
            hv = 0.0
            for i in range(k, n):
                for j2 in range(i + 1, n):
                    if heur_lab[i] == heur_lab[j2]:
                        hv += W[i, j2]
            if hv > best + _EPS:
                best = hv
                for u in range(k, n):
                    best_lab[u] = heur_lab[u]
        # ---- branch and bound on suffix k
        j = k
        ncl[k] = 0
        curv[k] = 0.0
        # options for vertex k: only a new cluster (cluster 0)
        nopt[k] = 1
        opts[k, 0] = 0
        pos[k] = 0
        while True:
            if pos[j] >= nopt[j]:
                j -= 1
                if j < k:
                    break
                continue
            c = opts[j, pos[j]]
            pos[j] += 1
            lab[j] = c
            nc = ncl[j]
            if c < nc:
                val = curv[j] + G[j, j, c]
            else:
                val = curv[j]
                nc += 1
            nodes += 1
            if node_limit > 0 and nodes > node_limit:
                complete = False
                break
            if j + 1 == n:
                if val > best + _EPS:
                    best = val
                    for u in range(k, n):
                        best_lab[u] = lab[u]
                continue
            bound = val + opt[j + 1]
            oldnc = ncl[j]
            for u in range(j + 1, n):
                mx = 0.0
                for cc in range(nc):
                    gv = G[j, u, cc] if cc < oldnc else 0.0
                    if cc == c:
                        gv += W[u, j]
                    G[j + 1, u, cc] = gv
                    if gv > mx:
                        mx = gv
                bound += mx
            if bound <= best + _EPS:
                continue
            j += 1
            curv[j] = val
            ncl[j] = nc
            # order options for vertex j by decreasing gain; the new cluster has gain 0
            no = 0
            for cc in range(nc + 1):
                gv = G[j, j, cc] if cc < nc else 0.0
                p = no
                while p > 0 and gains[p - 1] < gv:
                    gains[p] = gains[p - 1]
                    opts[j, p] = opts[j, p - 1]
                    p -= 1
                gains[p] = gv
                opts[j, p] = cc
                no += 1
            nopt[j] = no
            pos[j] = 0
        if not complete:
            # fall back to the incumbent for the whole graph if we were interrupted
            opt[k] = best
            for u in range(k, n):
                best_all[k, u] = best_lab[u]
            if k > 0:
                # cannot continue the doll sequence meaningfully; return heuristic/incumbent
                pass
            break
        opt[k] = best
        # canonical relabel of best_lab[k:] in order of first appearance
        for u in range(n):
            tmp_lab[u] = -1
        nxt = 0
        for u in range(k, n):
            l = best_lab[u]
            found = -1
            for w in range(k, u):
                if best_lab[w] == l:
                    found = best_all[k, w]
                    break
            if found < 0:
                found = nxt
                nxt += 1
            best_all[k, u] = found
    return opt[0], best_all[0].copy(), nodes, complete
