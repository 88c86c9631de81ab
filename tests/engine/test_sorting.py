"""The radix sort against NumPy's stable argsort, and float keys against float order."""
import numpy as np
import pytest

from evosim.engine.sorting import float_keys, float_keys_numpy, radix_sort, sort_keys


# narrow keys (5 bits; 11 bits among 2000) take one counting pass, the others byte passes
@pytest.mark.parametrize("n,bits", [(0, 8), (1, 8), (1000, 64), (777, 32), (50, 5), (2000, 11),
                                    (100, 11)])
def test_radix_sort_equals_numpy_stable_argsort_from_any_start_order(n, bits):
    rng = np.random.default_rng(n)
    keys = rng.integers(0, 2**bits, n, dtype=np.uint64) if bits < 64 else \
        rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    keys[::3] = keys[0] if n else keys[::3]  # plenty of ties
    for start in (np.arange(n), rng.permutation(n)):
        expected = start[np.argsort(keys[start], kind="stable")]
        assert np.array_equal(radix_sort(keys, start), expected)


def test_float_keys_sort_as_the_floats_do():
    x = np.array([3.5, -0.0, 0.0, -2.0, np.inf, -np.inf, 1e-300, -1e-300, 7.0, 3.5, 0.0])
    keys = float_keys(x)
    assert np.array_equal(keys, float_keys_numpy(x))
    assert keys[1] == keys[2] == keys[10]  # -0.0 and 0.0 are equal
    assert np.array_equal(radix_sort(keys, np.arange(x.size)), np.argsort(x, kind="stable"))
    assert np.array_equal(np.less.outer(x, x), np.less.outer(keys, keys))


def test_sort_keys_are_compact_for_integers_and_keep_the_order_of_any_values():
    counts = np.array([7.0, -3.0, 0.0, -0.0, 12.0, 7.0])
    keys, width = sort_keys(counts)
    assert width == 4 and keys.max() == 15  # 12 - (-3): four bits, one radix pass
    assert np.array_equal(np.less.outer(counts, counts), np.less.outer(keys, keys))
    keys, width = sort_keys(counts, -1.0)  # the keys of -counts: descending order
    assert width == 4 and np.array_equal(np.less.outer(-counts, -counts),
                                         np.less.outer(keys, keys))
    fractions = np.array([0.5, 0.25, 3.0, -1.5, 0.25])
    keys, width = sort_keys(fractions)
    assert width == 64 and np.array_equal(keys, float_keys(fractions))
    assert sort_keys(np.array([2.0**60, 1.0]))[1] == 64  # too large to be exact as an offset
