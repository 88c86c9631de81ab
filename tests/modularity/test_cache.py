import numpy as np

from evosim.modularity import ModularityCache, solve_max_q
from evosim.modularity._graphs import random_circuit_graph


def test_hits_and_misses():
    rng = np.random.default_rng(0)
    a = random_circuit_graph(rng)
    b = random_circuit_graph(rng)
    c = ModularityCache()
    r1 = c.max_q(a)
    assert (c.hits, c.misses) == (0, 1)
    r2 = c.max_q(a.copy())
    assert (c.hits, c.misses) == (1, 1)
    assert r1.q == r2.q and np.array_equal(r1.communities, r2.communities)
    ref = solve_max_q(a)
    assert ref.q == r1.q and np.array_equal(ref.communities, r1.communities)
    c.max_q(b)
    assert c.misses == 2
    q1 = c.qm(a, n_samples=3, seed=1)
    q2 = c.qm(a, n_samples=3, seed=1)
    assert q1 == q2
    assert c.qm(a, n_samples=3, seed=2).null_model == q1.null_model


def test_maxsize_evicts():
    c = ModularityCache(maxsize=2)
    rng = np.random.default_rng(1)
    graphs = [random_circuit_graph(rng) for _ in range(3)]
    for g in graphs:
        c.max_q(g)
    assert len(c) == 2
    c.max_q(graphs[0])
    assert c.misses == 4


def test_qm_is_the_uncached_value_and_shared_by_a_degree_sequence():
    from evosim.modularity import qm
    from evosim.modularity.null_models import DegreePreserving

    rng = np.random.default_rng(3)
    a = random_circuit_graph(rng)
    relabelled = a[np.ix_(order := rng.permutation(len(a)), order)]
    rewired = DegreePreserving().sample(a, False, rng)  # same degrees, another graph
    c = ModularityCache()
    first = c.qm(a, n_samples=5, seed=4)
    assert first == qm(a, n_samples=5, rng=4)
    for other in (relabelled, rewired):
        r = c.qm(other, n_samples=5, seed=4)
        assert (r.q_rand, r.q_rand_sd) == (first.q_rand, first.q_rand_sd)
        assert r == qm(other, n_samples=5, rng=4)
    assert c.qm(a, n_samples=5, seed=5).q_rand != first.q_rand
