"""Bit arithmetic the compiled kernels share (circuits and the retina pack rows into words)."""
from __future__ import annotations

import numpy as np
from numba import njit

# The card's circuit size (Kashtan & Alon 2005: 4 inputs, 12 NAND gates). The circuit kernels run
# it with these sizes as compile-time constants (the gate loop unrolled, addresses folded).
CARD_INPUTS, CARD_GATES = 4, 12


@njit(cache=True, inline="always")
def popcount64(x: np.uint64) -> int:
    """The number of set bits of a uint64 (the SWAR method: no table, no branch)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))
