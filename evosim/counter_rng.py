"""Counter-based random numbers shared by every backend.

A draw is a pure function of (run key, generation, stream, index), so the NumPy, Numba and CuPy
paths produce the same numbers bit for bit, in any order, and resuming a run needs no RNG state
beyond the generation counter. The mixer is SplitMix64's finaliser (Steele et al. 2014), applied to
a Weyl sequence per (generation, stream): the construction of SplitMix64 itself.

All arithmetic is on uint64 and wraps; the scalar functions are Numba kernels, the ``*_array``
functions their vectorised NumPy twins (checked equal in the tests).
"""
from __future__ import annotations

from enum import IntEnum

import numpy as np
from numba import njit


class Stream(IntEnum):
    """Every stream id of a run, in one place: an id is one independent kind of random decision
    of a generation (the kernels read them as ``.value`` constants)."""

    PERM = 1            # crossover: the pairing of the non-elite
    XO_DO = 2           # crossover: whether a pair crosses
    XO_CUT = 3          # crossover: where
    REWIRE = 4          # circuit mutation: whether (4), where (5), to what (6)
    TOURNAMENT = 7      # tournament picks
    RANK = 8            # random ties of the rank order
    NEUTRAL = 14        # a generation without selection (vg0): the random order of survival
    CHECK = 15          # P&NSGA per-check coins: the sort's dominance checks
    MATING_CHECK = 16   # per-check coins: the mating tournaments' dominance checks and ties
    MATING = 9          # NSGA-II's binary tournaments
    CUT = 10            # NSGA-II: random ties of crowding distance at the cut
    MOVE = 11           # evolved gate positions: whether (11), which gene (12), where to (13)
    ADD = 20            # retina mutation: add a connection (20), which (21), its weight (22)
    DELETE = 23         # delete one (23), which (24)
    WEIGHT = 25         # step a weight (25), up or down (26)
    BIAS = 27           # step a bias (27), up or down (28)
    DOMINANCE = 64      # P&NSGA: the coins of objective m are stream 64 + m
    INIT_LOGIC = 0xB17  # generation 0: random circuits
    INIT_RETINA = 0xB18  # generation 0: random retina networks

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_STREAM_MULT = np.uint64(0xD1B54A32D192ED03)
_S30, _S27, _S31, _S32, _S11 = (np.uint64(s) for s in (30, 27, 31, 32, 11))
_ONE = np.uint64(1)


@njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def stream_state(key: np.uint64, generation: int, stream: int) -> np.uint64:
    """The seed of one independent stream: one per (generation, stream id)."""
    tag = np.uint64(generation) * _GOLDEN + np.uint64(stream) * _STREAM_MULT
    return mix64(key ^ mix64(tag))


@njit(cache=True, inline="always")
def draw(state: np.uint64, index: int) -> np.uint64:
    """The index-th 64-bit draw of a stream."""
    return mix64(state + (np.uint64(index) + _ONE) * _GOLDEN)


@njit(cache=True, inline="always")
def bounded(x: np.uint64, n: int) -> int:
    """Map a draw to 0..n-1 by multiply-shift (bias below 2**-32 for n < 2**32)."""
    return int(((x >> _S32) * np.uint64(n)) >> _S32)


UNIT = 2.0**53  # coins compare the top 53 bits of a draw with p * UNIT


def threshold(p: float) -> np.uint64:
    """Integer threshold so that ``(x >> 11) < threshold(p)`` happens with probability p."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"probability {p} outside [0, 1]")
    return np.uint64(round(p * UNIT))


ALWAYS = threshold(1.0)  # the threshold of p = 1: a coin that always comes up


@njit(cache=True, inline="always")
def below(x: np.uint64, thresh: np.uint64) -> bool:
    """Bernoulli trial: True with the probability ``thresh`` was made from."""
    return (x >> _S11) < thresh


# --- vectorised twins -------------------------------------------------------------------------
# They take NumPy or CuPy arrays alike (uint64 operators only), and a key may be an array of run
# keys (shape [R, 1]): the draws then broadcast to one row per run.

def key_rows(key):
    """Run keys as the array twins' rows uint64[R, 1]: one run's key (R = 1), or an array of
    them as it is (on its own device)."""
    return key if getattr(key, "ndim", 0) else np.array([[key]], dtype=np.uint64)


def _u64(x):
    """x as uint64: an array (NumPy or CuPy) is converted on its own device."""
    return x.astype(np.uint64, copy=False) if hasattr(x, "astype") else np.asarray(x, np.uint64)


def mix64_array(z):
    z = _u64(z)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def stream_state_array(key, generation: int, stream: int):
    """The stream seed of one run key (a uint64), or of every key of an array of them."""
    tag = mix64_array(np.array([generation], dtype=np.uint64) * _GOLDEN
                      + np.array([stream], dtype=np.uint64) * _STREAM_MULT)
    if getattr(key, "ndim", 0):
        return mix64_array(_u64(key) ^ tag[0])
    return mix64_array(np.uint64(key) ^ tag)[0]  # as an array: scalars warn when they wrap


def draw_array(state, index):
    return mix64_array(_u64(state) + (_u64(index) + _ONE) * _GOLDEN)


def bounded_array(x, n):
    # a plain count as a NumPy scalar, which CuPy takes beside its arrays (a 0-d array it refuses)
    n = _u64(n) if hasattr(n, "astype") else np.uint64(n)
    return (((x >> _S32) * n) >> _S32).astype(np.int64)


def below_array(x, thresh):
    return (x >> _S11) < thresh


def key_from_seed_sequence(seq: np.random.SeedSequence) -> np.uint64:
    """The 64-bit run key of a component, drawn from its SeedSequence."""
    return seq.generate_state(1, dtype=np.uint64)[0]


def seed_streams(seed: int) -> dict[str, np.random.SeedSequence]:
    """Every source of randomness of a run, spawned from one SeedSequence: the engine (or
    training), the goal schedule, and the null models of Qm."""
    engine, schedule, modularity = np.random.SeedSequence(seed).spawn(3)
    return {"engine": engine, "schedule": schedule, "modularity": modularity}

