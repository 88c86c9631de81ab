"""Recurrent NAND circuits (``task.feedback = true``): a gate may read any gate, itself included.

A recurrent circuit has no evaluation order, so it is run as a clocked circuit: every gate starts
at 0 and all gates update together (synchronously), ``steps`` times, each from the values of the
step before; the output is the output gate's value after the last step. A feed-forward circuit
settles after as many steps as its depth (at most the number of gates), so with ``steps`` at
least that it computes what it computes without feedback. A loop that never settles (an odd
ring of inverters, e.g. a gate reading itself twice: NAND(g, g) = NOT g) is read at the last
step: such a gate alternates 1, 0, 1, ... from the first step, so it reads 1 after an odd number
of steps and 0 after an even one.

The functional network is the part from which the output can be reached along wires, loops
included; a gate's wire from itself is a self-loop, left out of the graph whose modularity is
measured (Q counts connections between nodes).
"""
from __future__ import annotations

import numpy as np
from numba import njit, uintp

from evosim.bits import popcount64


@njit(cache=True)
def count_correct_recurrent(genomes, n_inputs, n_gates, steps, input_words, target_words,
                            row_mask, out) -> None:
    """out[i] = rows on which recurrent circuit i, after ``steps`` synchronous updates from all
    gates at 0, equals the target."""
    n_words = row_mask.size
    signal = np.zeros((n_inputs + n_gates, n_words), dtype=np.uint64)
    update = np.empty((n_gates, n_words), dtype=np.uint64)
    for i in range(genomes.shape[0]):
        g = genomes[i]
        signal[:n_inputs] = input_words
        signal[n_inputs:] = 0
        for _ in range(steps):
            for gate in range(n_gates):
                a, b = uintp(g[2 * gate]), uintp(g[2 * gate + 1])
                for w in range(n_words):
                    update[gate, w] = ~(signal[a, w] & signal[b, w])
            signal[n_inputs:] = update
        total = 0
        o = uintp(g[2 * n_gates])
        for w in range(n_words):
            total += popcount64(~(signal[o, w] ^ target_words[w]) & row_mask[w])
        out[i] = total


def count_correct_recurrent_numpy(genomes, n_inputs, n_gates, steps, input_words, target_words,
                                  row_mask) -> np.ndarray:
    """The vectorised NumPy reference of ``count_correct_recurrent`` (whole population per
    step)."""
    n = genomes.shape[0]
    rows = np.arange(n)[:, None]
    signal = np.zeros((n, n_inputs + n_gates, row_mask.size), dtype=np.uint64)
    signal[:, :n_inputs] = input_words
    a, b = genomes[:, 0: 2 * n_gates: 2], genomes[:, 1: 2 * n_gates: 2]
    for _ in range(steps):
        signal[:, n_inputs:] = ~(signal[rows, a] & signal[rows, b])
    out = signal[np.arange(n), genomes[:, 2 * n_gates]]
    return np.bitwise_count(~(out ^ target_words) & row_mask).sum(axis=1).astype(np.int64)


@njit(cache=True)
def evaluate_recurrent(genomes, target, c, correct, cost) -> None:
    """Rows correct of every recurrent circuit (no connection cost: refused by the config)."""
    count_correct_recurrent(genomes, c.n_inputs, c.n_gates, c.steps, c.input_words, target,
                            c.row_mask, correct)
    cost[:] = 0.0


def evaluate_recurrent_numpy(genomes, target, c, correct, cost) -> None:
    correct[:] = count_correct_recurrent_numpy(genomes, c.n_inputs, c.n_gates, c.steps,
                                               c.input_words, target, c.row_mask)
    cost[:] = 0.0



def functional_network_recurrent(genome: np.ndarray,
                                 n_inputs: int) -> tuple[np.ndarray, np.ndarray]:
    """The part of a recurrent circuit (wiring genes, output address last) from which the output
    can be reached.

    Returns
    -------
    nodes : numpy.ndarray
        int64[k]: sorted addresses of the inputs and gates from which the output is reached.
    edges : numpy.ndarray
        int64[m, 2]: (source address, gate address) of each distinct wire into those gates, a
        gate's wire from itself left out; in gate order, the lower source first.
    """
    genome = np.asarray(genome, dtype=np.int64)
    n_gates = (genome.size - 1) // 2
    reached = np.zeros(n_inputs + n_gates, dtype=bool)
    todo = [int(genome[-1])]
    while todo:  # backwards along wires: loops end where they meet a reached node
        node = todo.pop()
        if reached[node]:
            continue
        reached[node] = True
        if node >= n_inputs:
            gate = node - n_inputs
            todo.extend(int(s) for s in genome[2 * gate: 2 * gate + 2])
    edges = sorted({(int(s), n_inputs + gate) for gate in range(n_gates)
                    if reached[n_inputs + gate] for s in genome[2 * gate: 2 * gate + 2]
                    if s != n_inputs + gate}, key=lambda e: (e[1], e[0]))
    return np.flatnonzero(reached), np.array(edges, dtype=np.int64).reshape(-1, 2)
