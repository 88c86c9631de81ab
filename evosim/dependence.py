"""How each unit of an evolved network depends on each input half (source document 000,
experiment 9: node-derivative and information measures), exact over all input patterns.

A unit's output is a function of the inputs, tabulated over every input pattern (``outputs[u, x]``,
pattern x holding input i = (x >> i) & 1). Its Boolean derivative along input i is the fraction of
patterns where flipping input i changes the output; its dependence on a half is the fraction of
patterns where flipping some input of that half changes it; and its mutual information with a half
is I(X_half; output) over uniform patterns, in bits. A modular network has units that depend on one
half only; the dependency graph (units and inputs, weighted by the Boolean derivatives) has a high
Q. For gradient-trained networks the node derivatives mean |d a_u / d x_i| over the data take the
Boolean derivatives' place (``trained_dependence``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from evosim.modularity import solve_max_q


def boolean_derivatives(outputs: np.ndarray, n_inputs: int) -> np.ndarray:
    """float[U, n_inputs]: for each unit and input, the fraction of patterns where flipping
    that input changes the unit's output."""
    outputs = np.asarray(outputs)
    x = np.arange(2**n_inputs)
    return np.stack([(outputs != outputs[:, x ^ (1 << i)]).mean(axis=1)
                     for i in range(n_inputs)], axis=1)


def half_dependence(outputs: np.ndarray, halves: list[list[int]]) -> np.ndarray:
    """float[U, len(halves)]: the fraction of patterns where flipping some input of the half
    changes the unit's output."""
    outputs = np.asarray(outputs)
    x = np.arange(outputs.shape[1])
    return np.stack([np.any([outputs != outputs[:, x ^ (1 << i)] for i in half], axis=0)
                     .mean(axis=1) for half in halves], axis=1)


def half_information(outputs: np.ndarray, halves: list[list[int]]) -> np.ndarray:
    """float[U, len(halves)]: mutual information (bits) between each half's inputs and each
    unit's output, every pattern equally likely."""
    outputs = np.asarray(outputs)
    x = np.arange(outputs.shape[1])
    out = np.empty((outputs.shape[0], len(halves)))
    for h, half in enumerate(halves):
        code = sum(((x >> i) & 1) << k for k, i in enumerate(half))  # the half's value
        for u, row in enumerate(outputs):
            out[u, h] = _entropy(row) - sum(
                np.mean(code == c) * _entropy(row[code == c]) for c in np.unique(code))
    return out


def _entropy(values: np.ndarray) -> float:
    p = np.unique(values, return_counts=True)[1] / values.size
    return float(-(p * np.log2(p)).sum())


@dataclass(frozen=True)
class Dependence:
    """The dependence measures of one network's units (rows in the order of ``units``)."""

    units: np.ndarray           # node ids of the units (gates or neurons)
    derivatives: np.ndarray     # [U, n_inputs]: Boolean derivatives
    dependence: np.ndarray      # [U, 2]: on the left and the right half
    information: np.ndarray     # [U, 2]: mutual information with each half (bits)
    one_sided: float            # fraction of units that depend on some input and on one half only
    q_dependency: float         # max Q of the unit-input graph weighted by the derivatives
    q_exact: bool               # whether that Q is exact (Louvain above 24 nodes)


def network_dependence(task, genome: np.ndarray, halves: list[list[int]]) -> Dependence:
    """The dependence measures of a genome's functional units (``task.unit_outputs``).

    Parameters
    ----------
    task
        A task with ``unit_outputs(genome)`` and ``n_inputs``.
    halves : list of two lists of int
        The inputs of the left and of the right half.
    """
    units, outputs = task.unit_outputs(genome)
    n = task.n_inputs
    derivatives = boolean_derivatives(outputs, n)
    dependence = half_dependence(outputs, halves)
    depends = dependence > 0
    active = depends.any(axis=1)
    one_sided = float(np.mean(depends[active].sum(axis=1) == 1)) if active.any() else np.nan
    return Dependence(units, derivatives, dependence, half_information(outputs, halves),
                      one_sided, *_dependency_q(derivatives))


def trained_dependence(params, x: np.ndarray, activation: str,
                       halves: Sequence[Sequence[int]], one_sided_below: float = 0.1) -> Dependence:
    """The dependence measures of a trained network's units over its data ``x``: the node
    derivatives mean |d a_u / d x_i| in place of the Boolean ones, a half's dependence their mean
    over its inputs, and a unit one-sided when its smaller half's dependence is below
    ``one_sided_below`` times the larger's. No mutual information (the activations are
    continuous): NaN."""
    from evosim.gradient.measures import input_derivatives

    derivatives = np.abs(input_derivatives(params, x, activation)).mean(axis=0).T  # [U, inputs]
    dependence = np.stack([derivatives[:, half].mean(axis=1) for half in halves], axis=1)
    larger = dependence.max(axis=1)
    active = larger > 0
    one_sided = (float(np.mean(dependence.min(axis=1)[active] < one_sided_below * larger[active]))
                 if active.any() else np.nan)
    n = x.shape[1]
    return Dependence(np.arange(n, n + len(derivatives)), derivatives, dependence,
                      np.full(dependence.shape, np.nan), one_sided, *_dependency_q(derivatives))


def _dependency_q(derivatives: np.ndarray) -> tuple[float, bool]:
    """(max Q, exact) of the graph of inputs and units, a unit joined to each input by its
    derivative along it (Louvain, recorded, above ``solve_max_q``'s exact limit)."""
    units, n = derivatives.shape
    graph = np.zeros((n + units,) * 2)  # inputs first, then the units
    graph[:n, n:] = derivatives.T
    graph[n:, :n] = derivatives
    if not graph.any():
        return np.nan, True
    result = solve_max_q(graph, rng=0)
    return float(result.q), bool(result.exact)


def halves_of(task) -> list[list[int]]:
    """The task's two input halves: the retina's left and right pixels (0-3, 4-7), a circuit's
    first and second half of its inputs (K&A's x, y and z, w)."""
    half = task.n_inputs // 2
    return [list(range(half)), list(range(half, task.n_inputs))]
