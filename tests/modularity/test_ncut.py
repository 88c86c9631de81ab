"""Spectral n-cut (Filan et al. 2021) against hand-computed values and planted clusters."""
import numpy as np
import pytest

from evosim.modularity.ncut import ncut, ncut_value, spectral_labels


def edges_to_matrix(n, edges, weight=1.0):
    w = np.zeros((n, n))
    for a, b in edges:
        w[a, b] = weight
    return w


def blocks(sizes, inside=1.0, between=(), between_weight=0.1):
    """Dense blocks of ``inside`` weight (upper triangle only, i.e. 'directed') plus a few weak
    links between blocks."""
    n = sum(sizes)
    w = np.zeros((n, n))
    start = 0
    for s in sizes:
        w[start:start + s, start:start + s] = np.triu(np.full((s, s), inside), 1)
        start += s
    for a, b in between:
        w[a, b] = between_weight
    return w


def test_path_graph_hand_computed():
    # 0-1-2-3 split {0,1} | {2,3}: cut = 1, vol = 1 + 2 = 3 on each side -> 1/3 + 1/3
    w = edges_to_matrix(4, [(0, 1), (1, 2), (2, 3)])
    assert ncut_value(w, np.array([0, 0, 1, 1])) == pytest.approx(2 / 3)
    result = ncut(w, k=2, n_shuffles=0)
    assert result.ncut == pytest.approx(2 / 3)
    assert result.labels.tolist() == [0, 0, 1, 1]
    assert np.isnan(result.p_value)


def test_two_triangles_hand_computed():
    # triangles {0,1,2} and {3,4,5} joined by 2-3: vol of each side = 2 + 2 + 3 = 7, cut = 1
    w = edges_to_matrix(6, [(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (4, 5), (3, 5)])
    result = ncut(w, k=2, n_shuffles=0)
    assert result.ncut == pytest.approx(2 / 7)
    assert result.labels.tolist() == [0, 0, 0, 1, 1, 1]


def test_weights_are_absolute_and_symmetrised():
    w = edges_to_matrix(4, [(0, 1), (1, 2), (2, 3)])
    signed = w * np.array([[1, -2, 1, 1]] * 4)  # direction and sign do not matter
    both = np.abs(signed) + np.abs(signed).T
    assert ncut_value(signed, [0, 0, 1, 1]) == pytest.approx(ncut_value(both, [0, 0, 1, 1]))
    # |w|: 0-1 weight 2, 1-2 and 2-3 weight 1; cut = 1, vol {0,1} = 2 + 3, vol {2,3} = 2 + 1
    assert ncut_value(signed, [0, 0, 1, 1]) == pytest.approx(1 / 5 + 1 / 3)


def test_block_diagonal_low_ncut_and_small_p():
    w = blocks([5, 5], between=[(0, 5), (1, 6), (2, 7)])
    result = ncut(w, k=2, n_shuffles=50, rng=1)
    assert result.labels.tolist() == [0] * 5 + [1] * 5
    assert result.ncut < 0.05
    assert result.p_value <= 0.05


def test_three_blocks_k3():
    w = blocks([4, 4, 4], between=[(0, 4), (4, 8), (3, 11)])
    labels = spectral_labels(w, k=3)
    assert sorted(map(tuple, [np.flatnonzero(labels == c) for c in range(3)])) == \
        [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9, 10, 11)]


def test_unweighted_graph_p_value_is_one():
    """Shuffling equal weights gives back the graph itself: the test needs weights."""
    w = edges_to_matrix(6, [(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (4, 5), (3, 5)])
    assert ncut(w, n_shuffles=10).p_value == 1.0


def test_isolated_vertices_left_out():
    w = np.zeros((5, 5))
    w[:4, :4] = edges_to_matrix(4, [(0, 1), (1, 2), (2, 3)])
    result = ncut(w, n_shuffles=0)
    assert result.labels[4] == -1
    assert result.ncut == pytest.approx(2 / 3)


def test_reproducible_and_checked():
    w = blocks([4, 4], between=[(0, 4)], between_weight=0.5) * np.linspace(1, 2, 8)
    a, b = ncut(w, n_shuffles=20, rng=3), ncut(w, n_shuffles=20, rng=3)
    assert (a.ncut, a.p_value) == (b.ncut, b.p_value)
    assert np.array_equal(a.labels, b.labels)
    with pytest.raises(ValueError, match="connected vertices"):
        ncut(np.zeros((3, 3)), k=2)
    with pytest.raises(ValueError, match="square"):
        ncut(np.zeros((2, 3)))
