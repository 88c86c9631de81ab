import igraph as ig
import numpy as np
import pytest

from evosim.modularity import max_q, newman_q, solve_max_q
from evosim.modularity._graphs import random_circuit_graph, random_layered_graph


def set_partitions(n):
    """All set partitions of range(n) as an array of restricted growth strings (one per row)."""
    parts = np.zeros((1, 1), dtype=np.int8)
    for _ in range(1, n):
        k = parts.max(axis=1) + 1
        rows = []
        for c in range(int(k.max()) + 1):
            sel = parts[c <= k]
            rows.append(np.hstack([sel, np.full((sel.shape[0], 1), c, dtype=np.int8)]))
        parts = np.vstack(rows)
    return parts


def brute_force(a, directed):
    """Max Q over ALL set partitions, independent of the package (uses the textbook formula)."""
    n = a.shape[0]
    aa = a if directed else a + np.diag(np.diag(a))
    tot = aa.sum()
    bmat = (aa - np.outer(aa.sum(1), aa.sum(0)) / tot) / tot
    parts = set_partitions(n)
    q = np.zeros(parts.shape[0])
    for i in range(n):
        for j in range(n):
            q += bmat[i, j] * (parts[:, i] == parts[:, j])
    best = int(np.argmax(q))
    assert abs(newman_q(a, parts[best].astype(np.int64), directed) - q[best]) < 1e-12
    return q[best]


def test_enumerator_counts():
    bell = [1, 2, 5, 15, 52, 203, 877, 4140, 21147, 115975]
    for n in range(1, 11):
        p = set_partitions(n)
        assert p.shape[0] == bell[n - 1]
        assert len({tuple(r) for r in p}) == bell[n - 1]


def _random(rng, n, directed, weighted, p):
    a = (rng.random((n, n)) < p).astype(float)
    if weighted:
        a *= rng.uniform(0.2, 2.0, (n, n))
    np.fill_diagonal(a, 0)
    if not directed:
        a = np.triu(a) + np.triu(a, 1).T
    if a.sum() == 0:
        a[0, 1] = 1.0
        if not directed:
            a[1, 0] = 1.0
    return a


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_brute_force(directed, weighted, seed):
    rng = np.random.default_rng(1000 * seed + 10 * directed + weighted)
    n = int(rng.integers(3, 10)) if seed < 5 else 10
    a = _random(rng, n, directed, weighted, p=float(rng.uniform(0.15, 0.5)))
    if seed == 5 and not directed:  # self loops too
        a[np.diag_indices(n)] = rng.random(n) < 0.3
    r = solve_max_q(a, directed)
    assert r.exact and r.method == "exact-bb"
    assert abs(r.q - brute_force(a, directed)) < 1e-10
    assert abs(newman_q(a, r.communities, directed) - r.q) < 1e-12


def test_canonical_labels_and_isolated():
    a = np.zeros((7, 7))
    for i, j in [(1, 2), (2, 3), (1, 3), (4, 5), (5, 6), (4, 6)]:
        a[i, j] = a[j, i] = 1
    q, lab = max_q(a)
    assert list(lab) == [0, 1, 1, 1, 2, 2, 2]
    assert abs(q - 0.5) < 1e-12
    r = solve_max_q(np.zeros((3, 3)))
    assert r.q == 0.0 and list(r.communities) == [0, 1, 2]


def _igraph_q(a, directed):
    g = ig.Graph.Weighted_Adjacency(a.tolist(), mode="directed" if directed else "undirected")
    cl = g.community_optimal_modularity(weights="weight")
    return g.modularity(cl, weights="weight", directed=directed)


@pytest.mark.parametrize("seed", range(12))
def test_circuits_vs_igraph(seed):
    rng = np.random.default_rng(seed)
    while True:
        a = random_circuit_graph(rng)
        if a.shape[0] >= 12:
            break
    r = solve_max_q(a)
    assert r.exact
    assert abs(r.q - _igraph_q(a, False)) < 1e-10
    assert abs(newman_q(a, r.communities) - r.q) < 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_layered_directed_vs_igraph(seed):
    rng = np.random.default_rng(100 + seed)
    while True:
        a = random_layered_graph(rng, layers=(6, 5, 3, 1))
        if 8 <= a.shape[0] <= 14:
            break
    r = solve_max_q(a, directed=True)
    assert abs(r.q - _igraph_q(a, True)) < 1e-10
    assert abs(newman_q(a, r.communities, directed=True) - r.q) < 1e-12


def test_deterministic():
    rng = np.random.default_rng(5)
    a = random_layered_graph(rng)
    r1, r2 = solve_max_q(a, True), solve_max_q(a.copy(), True)
    assert r1.q == r2.q and np.array_equal(r1.communities, r2.communities)


def test_above_exact_limit_uses_heuristic_flag():
    rng = np.random.default_rng(7)
    a = _random(rng, 12, False, False, 0.3)
    r = solve_max_q(a, exact_limit=4, rng=1)
    ref = solve_max_q(a)
    assert r.q <= ref.q + 1e-12
    assert (r.exact and r.method == "exact-bb") or (not r.exact and r.method == "louvain+moves")
    assert abs(newman_q(a, r.communities) - r.q) < 1e-12
