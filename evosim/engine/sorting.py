"""Stable sorting of the small arrays of a generation: an LSD radix sort over the bytes that vary.

A generation sorts one to two thousand keys several times (ranks, orders by objective), and the
keys of these runs (rows correct, connection counts, random bits) vary in one to three bytes, or
in a dozen bits or fewer, which one counting pass sorts: far less work than a comparison sort
(``benchmarks/bench_kernels.py`` measures it against Numba's ``np.argsort``). NumPy's
``argsort(kind="stable")`` gives the same orders (the reference kernels use it).
"""
from __future__ import annotations

import numpy as np
from numba import njit, uintp

_SIGN = np.uint64(1) << np.uint64(63)
_BYTE = np.uint64(255)
_ZERO = np.uint64(0)
# Keys that differ only in their NARROW_BITS low bits, in fewer values than twice their number,
# are sorted in one counting pass with a bucket per value.
NARROW_BITS = 12
_NARROW = np.uint64(1 << NARROW_BITS)


@njit(cache=True)
def radix_sort(keys, order) -> np.ndarray:
    """``order`` stably re-sorted by ``keys[order]`` ascending (uint64 keys, indexed by element):
    equal to ``order[np.argsort(keys[order], kind="stable")]``. Bytes that no two keys differ in
    cost nothing, so sorting by a second key after a first is cheap."""
    n = order.size
    k = np.empty(n, dtype=np.uint64)
    idx = order.copy()
    if n == 0:
        return idx
    differ = np.uint64(0)
    for i in range(n):
        k[i] = keys[uintp(order[i])]  # unsigned: no negative-index wraparound per read
        differ |= k[i] ^ k[0]
    k_spare = np.empty(n, dtype=np.uint64)
    idx_spare = np.empty(n, dtype=np.int64)
    if differ < _NARROW and differ < np.uint64(2 * n):  # one pass, a bucket per value
        size = 1
        while size <= differ:
            size <<= 1
        _counting_pass(k, idx, _ZERO, np.uint64(size - 1), k_spare, idx_spare)
        return idx_spare
    for byte in range(8):
        shift = np.uint64(8 * byte)
        if (differ >> shift) & _BYTE:
            _counting_pass(k, idx, shift, _BYTE, k_spare, idx_spare)
            k, k_spare = k_spare, k
            idx, idx_spare = idx_spare, idx
    return idx


@njit(cache=True)
def _counting_pass(k, idx, shift, mask, k_out, idx_out) -> None:
    """One stable counting-sort pass of (k, idx) into (k_out, idx_out) by the digit
    ``(k >> shift) & mask``.

    The counter of a stretch of equal digits stays in a register: a converged population is
    mostly one key, and counting it in memory would chain every step through one counter (each
    load waits for the store before it)."""
    n = k.size
    start = np.zeros(int(mask) + 1, dtype=np.int64)
    current, count, changes = (k[0] >> shift) & mask, 0, 0
    for i in range(n):
        d = (k[i] >> shift) & mask
        if d != current:
            start[current] += count
            current, count = d, 0
            changes += 1
        count += 1
    start[current] += count
    total = 0
    for bucket in range(start.size):
        count = start[bucket]
        start[bucket] = total
        total += count
    if 4 * changes > 3 * n:  # few stretches: slot by slot is cheaper than watching for them
        for i in range(n):
            d = (k[i] >> shift) & mask
            at = uintp(start[d])
            start[d] = at + 1
            k_out[at] = k[i]
            idx_out[at] = idx[i]
        return
    current = (k[0] >> shift) & mask
    slot = start[current]
    for i in range(n):
        d = (k[i] >> shift) & mask
        if d != current:
            start[current] = slot
            current = d
            slot = start[d]
        k_out[uintp(slot)] = k[i]
        idx_out[uintp(slot)] = idx[i]
        slot += 1


@njit(cache=True)
def float_keys(x) -> np.ndarray:
    """uint64 keys in the order of the float64 values (-0.0 and 0.0 equal; no NaN)."""
    bits = (x + 0.0).view(np.uint64)  # a contiguous copy, in which -0.0 became 0.0
    for i in range(bits.size):
        bits[i] = ~bits[i] if bits[i] & _SIGN else bits[i] | _SIGN
    return bits


@njit(cache=True)
def sort_keys(x, scale=1.0):
    """(uint64 keys in the order of the float64 values ``x * scale``, their width in bits).
    Integers below 2**52 in magnitude (rows correct, connection counts) give ``x * scale - min``:
    a few bits, so one or two radix passes; other values give ``float_keys`` (width 64)."""
    low, high, fraction = np.inf, -np.inf, False
    for v in x:
        v = v * scale
        fraction |= v != np.floor(v)
        low = min(low, v)
        high = max(high, v)
    if fraction or max(abs(low), abs(high)) >= 2.0**52:
        return float_keys(x * scale), 64
    keys = np.empty(x.size, dtype=np.uint64)
    for i in range(x.size):
        keys[i] = np.uint64(x[i] * scale - low)
    width = 0
    span = np.uint64(high - low) if x.size else np.uint64(0)
    while span:
        span >>= np.uint64(1)
        width += 1
    return keys, width


def float_keys_numpy(x: np.ndarray) -> np.ndarray:
    """The vectorised twin of ``float_keys``."""
    bits = (np.asarray(x, dtype=np.float64) + 0.0).view(np.uint64)
    return np.where(bits & _SIGN, ~bits, bits | _SIGN)
