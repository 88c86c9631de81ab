"""Qm, z and Q_max against outside oracles: an exact MILP (HiGHS), brute force, networkx."""
import math

import networkx as nx
import numpy as np
import pytest

from evosim.gradient.measures import weight_graph
from evosim.gradient.network import init_params
from evosim.modularity import (DegreePreserving, LayerPermutation, anneal_max_q, newman_q,
                               q_max, qm, solve_max_q)
from evosim.modularity._anneal_kernel import PERMUTE, REWIRE, anneal
from evosim.modularity._graphs import random_circuit_graph, random_layered_graph
from evosim.modularity.null_models import edge_list
from evosim.tasks.logic import LogicTask

from modularity.qmax_oracle import brute_force_layer_q_max, milp_q_max

RETINA_MLP = (8, 8, 4, 2, 1)


def modular_g1():
    from tasks.test_logic import MODULAR_G1_GENOME
    return LogicTask().adjacency(MODULAR_G1_GENOME, False).astype(float)


def small_graphs(directed: bool, count: int, rng):
    graphs = []
    while len(graphs) < count:
        a = (random_layered_graph(rng, (3, 3, 2, 1), 0.6) if directed
             else random_circuit_graph(rng, 3, 6))
        if 5 <= a.shape[0] <= 7 and (a != 0).sum() >= 6:
            graphs.append(a)
    return graphs


@pytest.mark.parametrize("directed", [False, True])
def test_q_max_equals_the_exact_milp_on_small_graphs(directed):
    for a in small_graphs(directed, 4, np.random.default_rng(4 + directed)):
        assert q_max(a, directed, rng=0) == pytest.approx(milp_q_max(a, directed), abs=1e-9)


def test_q_max_of_the_modular_g1_circuit_is_stable_and_not_beaten_by_longer_runs():
    a = modular_g1()
    for directed in (False, True):
        g = a if not directed else np.triu(a)  # the circuit oriented input -> output
        values = [q_max(g, directed, rng=seed) for seed in range(5)]
        assert max(values) - min(values) <= 0.01
        longer = [q_max(g, directed, rng=seed, restarts=8, sweeps=3000) for seed in (11, 12)]
        assert min(values) >= max(longer) - 1e-9
        assert min(values) > solve_max_q(g, directed).q  # a disconnected graph beats the circuit


def test_annealed_states_are_real_graphs_of_the_null_model():
    """The kernel's running Q is the Q (networkx) of the graph and partition it returns, and
    the graph keeps the null model's invariants."""
    rng = np.random.default_rng(0)
    a = random_layered_graph(rng, (6, 5, 3, 1), 0.5)
    q, g, labels = anneal(a.copy(), edge_list(a, True), np.arange(len(a), dtype=np.int64), True,
                          REWIRE, np.zeros((0, 4), dtype=np.int64), 5000, 0.1, 1e-3,
                          np.uint64(7))
    G = nx.from_numpy_array(g, create_using=nx.DiGraph)
    groups = [set(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    assert q == pytest.approx(nx.community.modularity(G, groups), abs=1e-9)
    assert np.array_equal(g.sum(0), a.sum(0)) and np.array_equal(g.sum(1), a.sum(1))
    assert set(np.unique(g)) <= {0.0, 1.0} and not np.diag(g).any()
    w = weight_graph(init_params(list(RETINA_MLP), rng))
    null = LayerPermutation(RETINA_MLP)
    edges, blocks = null.moves(w, False)
    q, g, labels = anneal(w.copy(), edges, np.arange(len(w), dtype=np.int64), False, PERMUTE,
                          blocks, 5000, 0.03, 1e-5, np.uint64(3))
    assert q == pytest.approx(newman_q(g, labels), abs=1e-9)
    assert np.array_equal(g, g.T)
    for r0, r1, c0, c1 in null.blocks():
        assert np.array_equal(np.sort(g[r0:r1, c0:c1], None), np.sort(w[r0:r1, c0:c1], None))


def test_weighted_q_max_equals_brute_force_on_tiny_layered_networks():
    rng = np.random.default_rng(1)
    for sizes in ((2, 2, 1), (3, 2, 1)):
        w = weight_graph(init_params(list(sizes), rng))
        expected = brute_force_layer_q_max(w, sizes)
        assert q_max(w, null=LayerPermutation(sizes), rng=0) == pytest.approx(expected, abs=1e-9)


def test_null_samples_keep_what_the_model_keeps():
    rng = np.random.default_rng(2)
    a = (rng.random((10, 10)) < 0.3) * ~np.eye(10, dtype=bool) * 1.0
    s = DegreePreserving().sample(a, True, rng)
    assert np.array_equal(s.sum(0), a.sum(0)) and np.array_equal(s.sum(1), a.sum(1))
    assert not np.array_equal(s, a) and set(np.unique(s)) <= {0.0, 1.0}
    u = random_circuit_graph(rng)
    s = DegreePreserving().sample(u, False, rng)
    assert np.array_equal(s, s.T) and np.array_equal(s.sum(0), u.sum(0)) and not np.diag(s).any()
    w = weight_graph(init_params(list(RETINA_MLP), rng))
    s = LayerPermutation(RETINA_MLP).sample(w, False, rng)
    assert np.array_equal(s, s.T) and not np.array_equal(s, w)
    assert np.array_equal(np.sort(s, None), np.sort(w, None))


def test_qm_record_of_the_modular_circuit():
    r = qm(modular_g1(), n_samples=20, rng=0)
    assert r.null_model.startswith("degree-preserving-rewiring") and r.q_method == "exact-bb"
    assert r.q == pytest.approx(solve_max_q(modular_g1()).q)
    assert r.q_rand < r.q < r.q_max and r.q_rand_sd > 0
    assert r.qm == pytest.approx((r.q - r.q_rand) / (r.q_max - r.q_rand))
    assert r.z == pytest.approx((r.q - r.q_rand) / r.q_rand_sd)
    assert r.z > 1.5  # the hand-built modular circuit is more modular than its random rewirings
    assert qm(modular_g1(), n_samples=20, rng=0) == r


def test_weighted_null_centres_random_networks_on_zero():
    """Over 50 randomly initialised retina MLPs, which are themselves draws from the null, the
    chance-corrected measures average 0: Qm within 0.1, z within three standard errors."""
    null = LayerPermutation(RETINA_MLP)
    records = [qm(weight_graph(init_params(list(RETINA_MLP), np.random.default_rng(seed))),
                  null=null, n_samples=8, rng=seed, qmax_restarts=2, qmax_sweeps=100)
               for seed in range(50)]
    qms = np.array([r.qm for r in records])
    zs = np.array([r.z for r in records])
    assert abs(qms.mean()) < 0.1
    assert abs(zs.mean()) < 3 * zs.std(ddof=1) / math.sqrt(len(zs))
    assert records[0].null_model.startswith("layer-weight-permutation")
    assert records[0].q_method == "anneal-partitions"


def test_degree_preserving_null_refuses_weighted_graphs():
    w = weight_graph(init_params(list(RETINA_MLP), np.random.default_rng(0)))
    with pytest.raises(ValueError, match="0/1 graph"):
        qm(w)
    with pytest.raises(ValueError, match="units"):
        qm(w, null=LayerPermutation((8, 8, 4)))


def test_partition_annealing_agrees_with_the_exact_maximum_on_circuits():
    rng = np.random.default_rng(3)
    for _ in range(10):
        a = random_circuit_graph(rng)
        assert anneal_max_q(a, rng=0)[0] == pytest.approx(solve_max_q(a).q, abs=1e-9)


def test_no_rewiring_possible_gives_nan():
    a = np.zeros((3, 3))
    a[0, 1] = a[1, 0] = 1
    r = qm(a, n_samples=3, rng=0)
    assert math.isnan(r.qm) and math.isnan(r.z)
