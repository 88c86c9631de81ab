import math

import numpy as np

from evosim.modularity import qm
from evosim.modularity._graphs import random_circuit_graph


def two_blocks():
    a = np.zeros((10, 10))
    for blk in (range(0, 5), range(5, 10)):
        for i in blk:
            for j in blk:
                if i != j:
                    a[i, j] = 1
    a[0, 9] = a[9, 0] = 1
    return a


def random_graph():
    rng = np.random.default_rng(2)
    while True:
        a = random_circuit_graph(rng)
        if a.shape[0] >= 10:
            return a


def test_two_blocks_high():
    r = qm(two_blocks(), n_samples=10, rng=0)
    rr = qm(random_graph(), n_samples=10, rng=0)
    assert r.null_model.startswith("degree-preserving-swaps")
    assert r.q_max >= r.q - 1e-12 and rr.q_max >= rr.q - 1e-12
    assert r.qm > 0.8
    assert r.qm > rr.qm


def test_deterministic():
    a = random_graph()
    assert qm(a, n_samples=5, rng=3) == qm(a, n_samples=5, rng=3)


def test_directed_runs():
    rng = np.random.default_rng(0)
    a = (rng.random((9, 9)) < 0.3).astype(float)
    np.fill_diagonal(a, 0)
    r = qm(a, directed=True, n_samples=5, rng=1)
    assert r.q_max >= r.q - 1e-12
    assert math.isnan(r.qm) or np.isfinite(r.qm)


def test_no_swaps_possible_nan():
    a = np.zeros((3, 3))
    a[0, 1] = a[1, 0] = 1
    r = qm(a, n_samples=3, rng=0)
    assert math.isnan(r.qm)
