import numpy as np
from numba import njit

from evosim import counter_rng as crng


@njit
def _draws_numba(key, generation, stream, n, bound):
    state = crng.stream_state(key, generation, stream)
    raw = np.empty(n, dtype=np.uint64)
    bounded = np.empty(n, dtype=np.int64)
    for i in range(n):
        raw[i] = crng.draw(state, i)
        bounded[i] = crng.bounded(raw[i], bound)
    return raw, bounded


def test_numba_and_numpy_draw_the_same_numbers():
    for key, generation, stream in [(1, 0, 0), (2**63 + 5, 12345, 7), (0, 2**40, 3)]:
        raw, bounded = _draws_numba(np.uint64(key), generation, stream, 500, 13)
        state = crng.stream_state_array(np.uint64(key), generation, stream)
        assert np.array_equal(raw, crng.draw_array(state, np.arange(500)))
        assert np.array_equal(bounded, crng.bounded_array(raw, 13))


def test_streams_differ_and_bounded_draws_are_uniform():
    key = np.uint64(99)
    a = crng.draw_array(crng.stream_state_array(key, 5, 1), np.arange(1000))
    b = crng.draw_array(crng.stream_state_array(key, 5, 2), np.arange(1000))
    c = crng.draw_array(crng.stream_state_array(key, 6, 1), np.arange(1000))
    assert len(set(a) & set(b)) == 0 and len(set(a) & set(c)) == 0
    values = crng.bounded_array(crng.draw_array(crng.stream_state_array(key, 0, 0),
                                                np.arange(70000)), 7)
    counts = np.bincount(values, minlength=7)
    assert values.min() == 0 and values.max() == 6
    expected = 10000
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 22.5  # p = 0.001 for 6 degrees of freedom


def test_bernoulli_threshold_frequency():
    x = crng.draw_array(crng.stream_state_array(np.uint64(3), 0, 0), np.arange(100000))
    for p in (0.0, 0.3, 0.5, 1.0):
        freq = crng.below_array(x, crng.threshold(p)).mean()
        assert abs(freq - p) < 0.005


def test_stream_ids_never_share_a_stream():
    """Each kind of random decision has streams of its own: an id and the ids after it that its
    kernel uses (whether / where / what) never overlap another's."""
    from evosim.counter_rng import Stream

    width = {Stream.REWIRE: 3, Stream.MOVE: 3, Stream.ADD: 3, Stream.DELETE: 2,
             Stream.WEIGHT: 2, Stream.BIAS: 2, Stream.DOMINANCE: 8}
    used = [s.value + k for s in Stream for k in range(width.get(s, 1))]
    assert len(used) == len(set(used))
