"""A fused reference loop: K&A's MVG logic-gate generations in one compiled function, with
nothing else (no Q, no file, no progress): the floor a whole ``evosim run`` process is compared
with by ``bench_logic.py --whole-process``.

    python benchmarks/fused_reference.py [--generations 20000]

Independent code (its own SplitMix64 draws, its own evaluation), so its numbers
differ from evosim's; the work per generation is the same: evaluate 1000 circuits of 12 NAND
gates on 16 rows, rank them (random ties), keep 30% elite and copy it over the worst 30%,
one-point crossover of random pairs (p = 0.5), one rewired gene per genome (p = 0.3), and the
goal switching between G1 and G2 every 20 generations.
"""
from __future__ import annotations

import argparse

import numpy as np
from numba import njit

N, GATES, INPUTS, ELITE = 1000, 12, 4, 300


@njit(cache=True)
def _next(state):
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _below(state, n):
    return int((_next(state) >> np.uint64(32)) * np.uint64(n) >> np.uint64(32))


@njit(cache=True)
def run(generations: int, seed: int, words, g1, g2) -> float:
    """Best fitness at the end of a K&A MVG run of ``generations`` generations."""
    state = np.array([seed], dtype=np.uint64)
    length = 2 * GATES + 1
    size = np.empty(length, dtype=np.int64)
    for g in range(GATES):
        size[2 * g] = size[2 * g + 1] = INPUTS + g
    size[-1] = GATES
    low = np.zeros(length, dtype=np.int64)
    low[-1] = INPUTS
    pop = np.empty((N, length), dtype=np.int16)
    for i in range(N):
        for j in range(length):
            pop[i, j] = low[j] + _below(state, size[j])
    mask = np.uint64(0xFFFF)
    signal = np.empty(INPUTS + GATES, dtype=np.uint64)
    signal[:INPUTS] = words
    correct = np.empty(N, dtype=np.int64)
    keys = np.empty(N, dtype=np.uint64)
    spare = np.empty_like(pop)
    best = 0.0
    for gen in range(generations + 1):
        target = g1 if (gen // 20) % 2 == 0 else g2
        for i in range(N):
            for g in range(GATES):
                signal[INPUTS + g] = ~(signal[pop[i, 2 * g]] & signal[pop[i, 2 * g + 1]])
            out = ~(signal[pop[i, length - 1]] ^ target) & mask
            c = 0
            while out:
                out &= out - np.uint64(1)
                c += 1
            correct[i] = c
            keys[i] = (np.uint64(16 - c) << np.uint64(24)) | (_next(state) >> np.uint64(40))
        order = np.argsort(keys)
        best = correct[order[0]] / 16.0
        for j in range(N - ELITE):
            spare[j] = pop[order[j]]
        for j in range(ELITE):
            spare[N - ELITE + j] = pop[order[j]]
        for k in range((N - ELITE) // 2):
            if _below(state, 2) == 0:  # p = 0.5
                a, b = ELITE + _below(state, N - ELITE), ELITE + _below(state, N - ELITE)
                for j in range(1 + _below(state, length - 1), length):
                    spare[a, j], spare[b, j] = spare[b, j], spare[a, j]
        for j in range(ELITE, N):
            if _below(state, 10) < 3:  # p = 0.3
                pos = _below(state, length)
                r = _below(state, size[pos] - 1)
                current = spare[j, pos] - low[pos]
                spare[j, pos] = low[pos] + r + (1 if r >= current else 0)
        pop, spare = spare, pop
    return best


def truth_tables() -> tuple[np.ndarray, np.uint64, np.uint64]:
    """The inputs' packed truth tables over 16 rows, and those of G1 and G2."""
    bits = (np.arange(16)[None, :] >> np.arange(4)[:, None]) & 1
    x, y, z, w = bits
    pack = lambda t: np.uint64((t.astype(np.uint64) << np.arange(16, dtype=np.uint64)).sum())
    return (np.array([pack(b) for b in bits], dtype=np.uint64),
            pack((x ^ y) & (z ^ w)), pack((x ^ y) | (z ^ w)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=20000)
    args = parser.parse_args()
    print(f"best fitness at the end: {run(args.generations, 1, *truth_tables()):.4f}")
