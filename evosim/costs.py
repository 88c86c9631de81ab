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
- ``evolved``: inputs as in ``grid``; every gate's (x, y) is two genes of its genome (after the
  wiring genes, see ``tasks.logic``), free in the grid's box (x in 0 .. n_inputs - 1, y in
  1 .. ``position_rows``) and mutated like any gene, so placement evolves with wiring. Gates
  may share a cell.

As a penalty a cost enters selection as ``performance - weight * cost``; as an NSGA-II objective it
is minimised. The Numba kernel and its NumPy twin are checked equal in the tests.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uintp

from evosim.bits import CARD_GATES, CARD_INPUTS, popcount64
from evosim.xp import array_module

COST_KINDS = ("none", "count", "length")
LAYOUTS = ("line", "grid", "evolved")
NONE, COUNT, LENGTH, PLACED = 0, 1, 2, 3  # kernel kinds; PLACED: length, positions in the genome


def kernel_kind(kind: str, layout: str) -> int:
    """The cost kernels' kind for a config's cost.kind and cost.layout."""
    return PLACED if kind == "length" and layout == "evolved" else COST_KINDS.index(kind)


def position_rows(n_inputs: int, max_gates: int) -> int:
    """Rows of gates in the grid (at least 2, so every position gene can mutate)."""
    return max(2, -(-max_gates // n_inputs))


def positions(layout: str, n_inputs: int, max_gates: int,
              genome: np.ndarray | None = None) -> np.ndarray:
    """float64[n_inputs + max_gates, 2]: the position of every address (``evolved``: read from
    ``genome``)."""
    n = n_inputs + max_gates
    if layout == "line":
        return np.stack([np.arange(n, dtype=np.float64), np.zeros(n)], axis=1)
    xy_inputs = np.stack([np.arange(n_inputs), np.zeros(n_inputs)], axis=1)
    if layout == "grid":
        gates = np.arange(max_gates)
        xy_gates = np.stack([gates % n_inputs, 1 + gates // n_inputs], axis=1)
    elif layout == "evolved":
        if genome is None:
            raise ValueError("the evolved layout's gate positions are in the genome: pass it")
        xy_gates = np.asarray(genome[2 * max_gates + 1:]).reshape(max_gates, 2)
    else:
        raise ValueError(f"{layout!r} is not a logic-gates layout; allowed: {', '.join(LAYOUTS)}")
    return np.concatenate([xy_inputs, xy_gates]).astype(np.float64)


def squared_distances(xy: np.ndarray) -> np.ndarray:
    """float64[A, A]: squared distance between every pair of addresses."""
    return ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)


@njit(cache=True)
def connection_costs(genomes, n_inputs, n_gates, kind, sq_dist, out) -> None:
    """out[i] = cost of circuit i's functional network (0 for kind NONE)."""
    n = genomes.shape[0]
    if kind == NONE:
        out[:] = 0.0
        return
    if n_inputs + n_gates > 64:
        _connection_costs_wide(genomes, n_inputs, n_gates, kind, sq_dist, out)
        return
    one = np.uint64(1)
    for i in range(n):  # reached addresses are bits of one word, updated without branches
        reached = one << np.uint64(genomes[i, 2 * n_gates])
        single = np.uint64(0)  # gates that read one source twice: one connection
        for gate in range(n_gates - 1, -1, -1):  # feed-forward: sources lie below their gate
            a, b = genomes[i, 2 * gate], genomes[i, 2 * gate + 1]
            on = (reached >> np.uint64(n_inputs + gate)) & one
            reached |= (np.uint64(0) - on) & ((one << np.uint64(a)) | (one << np.uint64(b)))
            single |= np.uint64(a == b) << np.uint64(gate)
        out[i] = _network_cost(genomes[i], n_inputs, n_gates, reached >> np.uint64(n_inputs),
                               single, kind, sq_dist)


@njit(cache=True)
def correct_and_costs(genomes, n_inputs, n_gates, input_words, target, row_mask, kind, sq_dist,
                      correct, cost) -> None:
    """``count_correct`` and ``connection_costs`` in one forward pass, for circuits of one word
    of rows and at most 64 gates (the logic task's hot loop under a cost): each address
    carries the set of gates feeding it (its cone) beside its signal, so the functional network
    is the output's cone, with no backward pass. The pass is compiled for each kind, and for the
    card's size with constant sizes: a branch or a bound known at compile time halves its time."""
    w, t, m, sq = input_words, target, row_mask, sq_dist
    card = n_inputs == CARD_INPUTS and n_gates == CARD_GATES
    if kind == COUNT and card:
        _fused_pass(genomes, CARD_INPUTS, CARD_GATES, COUNT, w, t, m, sq, correct, cost)
    elif kind == COUNT:
        _fused_pass(genomes, n_inputs, n_gates, COUNT, w, t, m, sq, correct, cost)
    elif card:
        _fused_pass(genomes, CARD_INPUTS, CARD_GATES, kind, w, t, m, sq, correct, cost)
    else:
        _fused_pass(genomes, n_inputs, n_gates, kind, w, t, m, sq, correct, cost)


@njit(cache=True, inline="always")  # inlined, so the constants of each call fold into it
def _fused_pass(genomes, n_inputs, n_gates, kind, input_words, target, row_mask, sq_dist, correct,
                cost) -> None:
    n = genomes.shape[0]
    one = np.uint64(1)
    signal = np.empty(n_inputs + n_gates, dtype=np.uint64)
    cone = np.zeros(n_inputs + n_gates, dtype=np.uint64)
    signal[:n_inputs] = input_words[:, 0]
    for i in range(n):
        single = np.uint64(0)  # gates that read one source twice: one connection
        for gate in range(n_gates):  # unsigned addresses: no negative-index wraparound per read
            a, b = uintp(genomes[i, 2 * gate]), uintp(genomes[i, 2 * gate + 1])
            signal[n_inputs + gate] = ~(signal[a] & signal[b])
            cone[n_inputs + gate] = cone[a] | cone[b] | (one << np.uint64(gate))
            single |= np.uint64(a == b) << np.uint64(gate)
        out = uintp(genomes[i, 2 * n_gates])
        correct[i] = popcount64(~(signal[out] ^ target[0]) & row_mask[0])
        cost[i] = _network_cost(genomes[i], n_inputs, n_gates, cone[out], single, kind, sq_dist)


@njit(cache=True, inline="always")
def _network_cost(genome, n_inputs, n_gates, used, single, kind, sq_dist) -> float:
    """The cost of a functional network given as bits: ``used`` gates, of which ``single`` read
    one source twice (one connection)."""
    if kind == COUNT:
        return 2.0 * popcount64(used) - popcount64(used & single)
    total = 0.0
    for gate in range(n_gates):
        if (used >> np.uint64(gate)) & np.uint64(1):
            a, b = genome[2 * gate], genome[2 * gate + 1]
            total += _wire(genome, n_inputs, n_gates, kind, sq_dist, a, gate)
            if a != b:
                total += _wire(genome, n_inputs, n_gates, kind, sq_dist, b, gate)
    return total


@njit(cache=True, inline="always")
def _wire(genome, n_inputs, n_gates, kind, sq_dist, source, gate) -> float:
    """The squared length of the wire from address ``source`` to ``gate``: from the layout's
    table, or (kind PLACED) from the positions in the genome."""
    if kind == LENGTH:
        return sq_dist[source, n_inputs + gate]
    at = 2 * n_gates + 1  # the gates' (x, y) genes follow the wiring genes
    gx, gy = genome[at + 2 * gate], genome[at + 2 * gate + 1]
    if source < n_inputs:
        sx, sy = source, 0
    else:
        sx, sy = genome[at + 2 * (source - n_inputs)], genome[at + 2 * (source - n_inputs) + 1]
    return float((gx - sx) ** 2 + (gy - sy) ** 2)


@njit(cache=True)
def _connection_costs_wide(genomes, n_inputs, n_gates, kind, sq_dist, out) -> None:
    """``connection_costs`` for circuits of more than 64 addresses: a flag per address."""
    n = genomes.shape[0]
    reached = np.empty(n_inputs + n_gates, dtype=np.bool_)
    for i in range(n):
        reached[:] = False
        reached[genomes[i, 2 * n_gates]] = True
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
                    total += _wire(genomes[i], n_inputs, n_gates, kind, sq_dist, a, gate)
                    if a != b:
                        total += _wire(genomes[i], n_inputs, n_gates, kind, sq_dist, b, gate)
        out[i] = total


def connection_costs_numpy(genomes, n_inputs: int, n_gates: int, kind: int, sq_dist):
    """The vectorised twin of ``connection_costs`` (whole population per gate), on NumPy or
    CuPy arrays of genomes [N, L] or [R, N, L] (a batch of runs)."""
    xp = array_module(genomes)
    shape = genomes.shape[:-1]
    genomes = genomes.reshape(-1, genomes.shape[-1])
    n = genomes.shape[0]
    rows = xp.arange(n)
    if kind == NONE:
        return xp.zeros(shape)
    if kind == PLACED:  # every circuit has its own positions: a table per circuit
        xy = xp.zeros((n, n_inputs + n_gates, 2))
        xy[:, :n_inputs, 0] = xp.arange(n_inputs)
        xy[:, n_inputs:] = genomes[:, 2 * n_gates + 1:].reshape(n, n_gates, 2)
        sq = ((xy[:, :, None, :] - xy[:, None, :, :]) ** 2).sum(axis=3)
    else:
        sq = xp.broadcast_to(xp.asarray(sq_dist), (n,) + sq_dist.shape)
    reached = xp.zeros((n, n_inputs + n_gates), dtype=bool)
    reached[rows, genomes[:, 2 * n_gates]] = True
    total = xp.zeros(n)
    for gate in range(n_gates - 1, -1, -1):
        node = n_inputs + gate
        on = reached[:, node]
        a, b = genomes[:, 2 * gate], genomes[:, 2 * gate + 1]
        reached[rows, a] |= on
        reached[rows, b] |= on
        if kind == COUNT:
            wires = xp.where(a == b, 1.0, 2.0)
        else:
            wires = sq[rows, a, node] + xp.where(a == b, 0.0, sq[rows, b, node])
        total += xp.where(on, wires, 0.0)
    return total.reshape(shape)
