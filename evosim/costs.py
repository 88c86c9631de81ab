"""Connection costs of circuits: how many connections, and how long (Clune, Mouret & Lipson 2013;
source document 000, experiment 4).

Only the functional network counts (the gates that reach the output and their wires); a gate that
reads one source twice has one connection, as in its graph. Costs are raw numbers: ``count`` is the
number of connections, ``length`` the sum of squared Euclidean connection lengths with every
address at a fixed position given by a layout:

- ``line``: address a at x = a (inputs 0 .. n-1, then the gates): source document 000's "1D position
  index". A wire from input 0 to gate 11 of a 4-input circuit has length 15, cost 225.
- ``grid``: inputs on row 0 at x = 0 .. n-1; gates fill rows 1, 2, ... left to right, n_inputs per
  row (gate g at x = g % n_inputs, y = 1 + g // n_inputs): a 2D position index.

As a penalty a cost enters selection as ``performance - weight * cost``; as an NSGA-II objective it
is minimised. The Numba kernel and its NumPy twin are checked equal in the tests.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from evosim.tasks.logic import popcount64

COST_KINDS = ("none", "count", "length")
LAYOUTS = ("line", "grid")
NONE, COUNT, LENGTH = 0, 1, 2


def positions(layout: str, n_inputs: int, max_gates: int) -> np.ndarray:
    """float64[n_inputs + max_gates, 2]: the position of every address."""
    n = n_inputs + max_gates
    if layout == "line":
        return np.stack([np.arange(n, dtype=np.float64), np.zeros(n)], axis=1)
    if layout == "grid":
        gates = np.arange(max_gates)
        xy_inputs = np.stack([np.arange(n_inputs), np.zeros(n_inputs)], axis=1)
        xy_gates = np.stack([gates % n_inputs, 1 + gates // n_inputs], axis=1)
        return np.concatenate([xy_inputs, xy_gates]).astype(np.float64)
    raise ValueError(f"{layout!r} is not a logic-gates layout; allowed: {', '.join(LAYOUTS)}")


def squared_distances(xy: np.ndarray) -> np.ndarray:
    """float64[A, A]: squared distance between every pair of addresses."""
    return ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)


@njit(cache=True)
def connection_costs(genomes, n_inputs, kind, sq_dist, out) -> None:
    """out[i] = cost of circuit i's functional network (0 for kind NONE)."""
    n, length = genomes.shape
    n_gates = (length - 1) // 2
    if kind == NONE:
        out[:] = 0.0
        return
    if n_inputs + n_gates > 64:
        _connection_costs_wide(genomes, n_inputs, kind, sq_dist, out)
        return
    one = np.uint64(1)
    for i in range(n):  # reached addresses are bits of one word, updated without branches
        reached = one << np.uint64(genomes[i, length - 1])
        single = np.uint64(0)  # gates that read one source twice: one connection
        for gate in range(n_gates - 1, -1, -1):  # feed-forward: sources lie below their gate
            a, b = genomes[i, 2 * gate], genomes[i, 2 * gate + 1]
            on = (reached >> np.uint64(n_inputs + gate)) & one
            reached |= (np.uint64(0) - on) & ((one << np.uint64(a)) | (one << np.uint64(b)))
            single |= np.uint64(a == b) << np.uint64(gate)
        out[i] = _network_cost(genomes[i], n_inputs, reached >> np.uint64(n_inputs), single,
                               kind, sq_dist)


@njit(cache=True)
def correct_and_costs(genomes, n_inputs, input_words, target, row_mask, kind, sq_dist, correct,
                      cost) -> None:
    """``count_correct`` and ``connection_costs`` in one forward pass, for circuits of one word
    of rows and at most 64 addresses (the logic task's hot loop under a cost): each address
    carries the set of gates feeding it (its cone) beside its signal, so the functional network
    is the output's cone, with no backward pass."""
    n, length = genomes.shape
    n_gates = (length - 1) // 2
    one = np.uint64(1)
    signal = np.empty(n_inputs + n_gates, dtype=np.uint64)
    cone = np.zeros(n_inputs + n_gates, dtype=np.uint64)
    signal[:n_inputs] = input_words[:, 0]
    for i in range(n):
        single = np.uint64(0)  # gates that read one source twice: one connection
        for gate in range(n_gates):
            a, b = genomes[i, 2 * gate], genomes[i, 2 * gate + 1]
            signal[n_inputs + gate] = ~(signal[a] & signal[b])
            cone[n_inputs + gate] = cone[a] | cone[b] | (one << np.uint64(gate))
            single |= np.uint64(a == b) << np.uint64(gate)
        out = genomes[i, length - 1]
        correct[i] = popcount64(~(signal[out] ^ target[0]) & row_mask[0])
        cost[i] = _network_cost(genomes[i], n_inputs, cone[out], single, kind, sq_dist)


@njit(cache=True, inline="always")
def _network_cost(genome, n_inputs, used, single, kind, sq_dist) -> float:
    """The cost of a functional network given as bits: ``used`` gates, of which ``single`` read
    one source twice (one connection)."""
    if kind == COUNT:
        return 2.0 * popcount64(used) - popcount64(used & single)
    total = 0.0
    for gate in range(genome.size // 2):
        if (used >> np.uint64(gate)) & np.uint64(1):
            a, b = genome[2 * gate], genome[2 * gate + 1]
            total += sq_dist[a, n_inputs + gate] + (0.0 if a == b else sq_dist[b, n_inputs + gate])
    return total


@njit(cache=True)
def _connection_costs_wide(genomes, n_inputs, kind, sq_dist, out) -> None:
    """``connection_costs`` for circuits of more than 64 addresses: a flag per address."""
    n, length = genomes.shape
    n_gates = (length - 1) // 2
    reached = np.empty(n_inputs + n_gates, dtype=np.bool_)
    for i in range(n):
        reached[:] = False
        reached[genomes[i, length - 1]] = True
        total = 0.0
        for gate in range(n_gates - 1, -1, -1):
            node = n_inputs + gate
            if reached[node]:
                a, b = genomes[i, 2 * gate], genomes[i, 2 * gate + 1]
                reached[a] = True
                reached[b] = True
                if kind == COUNT:
                    total += 1.0 if a == b else 2.0
                else:
                    total += sq_dist[a, node] + (0.0 if a == b else sq_dist[b, node])
        out[i] = total


def connection_costs_numpy(genomes: np.ndarray, n_inputs: int, kind: int,
                           sq_dist: np.ndarray) -> np.ndarray:
    """The vectorised NumPy twin of ``connection_costs`` (whole population per gate)."""
    n, length = genomes.shape
    n_gates = (length - 1) // 2
    rows = np.arange(n)
    if kind == NONE:
        return np.zeros(n)
    reached = np.zeros((n, n_inputs + n_gates), dtype=bool)
    reached[rows, genomes[:, -1]] = True
    total = np.zeros(n)
    for gate in range(n_gates - 1, -1, -1):
        node = n_inputs + gate
        on = reached[:, node]
        a, b = genomes[:, 2 * gate], genomes[:, 2 * gate + 1]
        reached[rows[on], a[on]] = True
        reached[rows[on], b[on]] = True
        if kind == COUNT:
            wires = np.where(a == b, 1.0, 2.0)
        else:
            wires = sq_dist[a, node] + np.where(a == b, 0.0, sq_dist[b, node])
        total += np.where(on, wires, 0.0)
    return total
