import networkx as nx
import numpy as np
import pytest

from evosim.modularity import newman_q


def _random_graph(rng, n, directed, p=0.4, loops=True):
    a = (rng.random((n, n)) < p) * rng.uniform(0.1, 3.0, (n, n))
    if not loops:
        np.fill_diagonal(a, 0)
    if not directed:
        a = np.triu(a) + np.triu(a, 1).T
    return a


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("seed", range(20))
def test_matches_networkx(directed, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 15))
    a = _random_graph(rng, n, directed)
    if a.sum() == 0:
        a[0, 1] = a[1, 0] = 1.0
    g = nx.from_numpy_array(a, create_using=nx.DiGraph if directed else nx.Graph)
    labels = rng.integers(0, max(1, n // 3), size=n)
    sets = [set(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)]
    ref = nx.community.modularity(g, sets, weight="weight")
    assert abs(newman_q(a, labels, directed) - ref) < 1e-12
    assert abs(newman_q(a, sets, directed) - ref) < 1e-12
    assert abs(newman_q(a, list(labels), directed) - ref) < 1e-12


def test_no_edges_is_zero():
    assert newman_q(np.zeros((4, 4)), np.arange(4)) == 0.0
    assert newman_q(np.zeros((4, 4)), [set(range(4))], directed=True) == 0.0


def test_bad_partition():
    with pytest.raises(ValueError):
        newman_q(np.ones((3, 3)), [{0, 1}])
    with pytest.raises(ValueError):
        newman_q(np.ones((3, 3)), [{0, 1}, {1, 2}])
