"""The networks behind a run file: its task rebuilt from the stored config, the best genome at a
snapshot, and that genome's functional network with its max-Q partition.

Kept apart from :mod:`runs` because it imports task code (Numba kernels), which the per-run tables
do not need.
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from evosim import config as cfg
from evosim.io import History
from evosim.modularity import solve_max_q
from evosim.tasks import get_task

__all__ = ["Network", "NoSnapshotError", "StoredNetwork", "task_of", "snapshot_at",
           "stored_network", "network", "run_network", "weight_network", "unit_dependence"]


class NoSnapshotError(LookupError):
    """No snapshot at or before the asked generation; the message is for users."""


@dataclass
class Network:
    """A genome's functional network; arrays are indexed like ``nodes``."""

    graph: nx.DiGraph
    nodes: np.ndarray
    adjacency: np.ndarray          # what Q is computed on: 0/1 wires, or an MLP's |w|
    weights: np.ndarray            # edge weights where the task has them (retina), else adjacency
    communities: dict[int, int]    # node -> community of the max-Q partition
    q: float
    directed: bool


def task_of(h: History):
    """(task, directed): the run's task and whether its Q is Leicht-Newman directed."""
    config = cfg.loads(h.config_toml)
    return get_task(config.task, config.cost.layout), bool(config.modularity.directed)


def snapshot_at(h: History, generation: int | None = None) -> tuple[int, np.ndarray]:
    """(generation, genome) of the last snapshot at or before ``generation`` (None: the last).

    Returns
    -------
    generation : int
        The generation of the snapshot found.
    genome : numpy.ndarray
        The best genome stored in that snapshot (one row of ``h.snapshot_genome``).
    """
    gens = h.snapshot_generation
    if generation is None:
        generation = int(gens.max()) if gens.size else -1
    index = np.flatnonzero(gens <= generation)
    if index.size == 0:
        first = f"the first is at generation {int(gens.min())}" if gens.size else "it has none"
        raise NoSnapshotError(f"{h.path}: no snapshot at or before generation {generation} "
                              f"({first})")
    best = index[np.argmax(gens[index])]
    return int(gens[best]), np.asarray(h.snapshot_genome[best])


@dataclass(frozen=True)
class StoredNetwork:
    """A network the run file holds: the best of one generation, and what it is."""

    generation: int
    genome: np.ndarray
    description: str


def stored_network(h: History, generation: int | None = None) -> StoredNetwork:
    """The network to look at: by default the run's last solving network (the last solving best
    of the last solved goal epoch, /epochs), else its last snapshot; with ``generation``, the
    latest stored network (a snapshot or an epoch's solving best) at or before it."""
    solved = np.flatnonzero(h.epochs.get("solved", np.zeros(0, bool)))
    stored = [(int(g), genome, "snapshot") for g, genome in
              zip(h.snapshot_generation, h.snapshot_genome)]
    stored += [(int(h.epochs["solved_at"][i]), h.epoch_genome[i],
                f"solving network of goal epoch {int(h.epochs['epoch'][i])}") for i in solved]
    if generation is None and solved.size:
        g, genome, what = stored[-1]
        return StoredNetwork(g, np.asarray(genome), f"the last solving network ({what})")
    if generation is None:
        if not stored:
            raise NoSnapshotError(f"{h.path}: no network stored yet")
        g, genome, _ = max(stored, key=lambda s: s[0])
        return StoredNetwork(g, np.asarray(genome), "the last snapshot; no goal epoch was solved")
    before = [s for s in stored if s[0] <= generation]
    if not before:
        first = f"the first is of generation {min(s[0] for s in stored)}" if stored else \
            "it has none"
        raise NoSnapshotError(f"{h.path}: no network stored at or before generation "
                              f"{generation} ({first})")
    g, genome, what = max(before, key=lambda s: (s[0], s[2] != "snapshot"))
    if g == generation:
        return StoredNetwork(g, np.asarray(genome), what)
    return StoredNetwork(g, np.asarray(genome), f"no network is stored for generation "
                                                f"{generation}: the latest before it, a {what}")


def run_network(h: History, genome: np.ndarray) -> Network:
    """The network of a snapshot of run ``h``: an evolved genome's functional network, or for
    gradient runs the trained MLP's |w| weight graph (as its Q was recorded)."""
    if h.trained_weights:
        return weight_network(cfg.loads(h.config_toml), genome)
    task, directed = task_of(h)
    return network(task, genome, directed)


def weight_network(config: cfg.Config, flat: np.ndarray) -> Network:
    """A trained MLP's weight graph (symmetric |w|, ``gradient.weight_threshold`` applied) with
    its max-Q partition; units at layered positions.  The input width is read off the number of
    weights, so no data set is needed."""
    from evosim.gradient.measures import unit_positions, weight_graph
    from evosim.gradient.trainer import network_sizes, unflatten

    sizes = network_sizes(config, 0)
    without_inputs = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    sizes[0] = (len(flat) - without_inputs) // sizes[1]
    params = unflatten(np.asarray(flat, np.float64), sizes)
    weights = weight_graph(params, config.gradient.weight_threshold)
    layer = np.repeat(np.arange(len(sizes)), sizes)
    xy = unit_positions(sizes)
    g = nx.DiGraph()
    for unit in range(len(layer)):
        kind = "input" if layer[unit] == 0 else "output" if layer[unit] == len(sizes) - 1 \
            else "neuron"
        g.add_node(unit, kind=kind, layer=int(layer[unit]), position=tuple(xy[unit]),
                   label=f"u{unit}")
    start = np.concatenate([[0], np.cumsum(sizes)])
    for at, (w, _) in enumerate(params):
        block = weights[start[at]:start[at + 1], start[at + 1]:start[at + 2]]
        for i, k in zip(*np.nonzero(block)):
            g.add_edge(int(start[at] + i), int(start[at + 1] + k), weight=float(w[i, k]))
    directed = bool(config.modularity.directed)
    result = solve_max_q(weights, directed)
    nodes = np.arange(len(layer))
    return Network(g, nodes, weights, weights,
                   {int(n): int(c) for n, c in zip(nodes, result.communities)}, float(result.q),
                   directed)


def network(task, genome: np.ndarray, directed: bool) -> Network:
    """The functional network of ``genome`` with its exact max-Q partition."""
    g = task.graph(genome)
    nodes, _ = task.functional_network(genome)
    adjacency = np.asarray(task.adjacency(genome, directed), dtype=np.float64)
    index = {int(n): i for i, n in enumerate(nodes)}
    weights = np.zeros_like(adjacency)
    for a, b, d in g.edges(data=True):
        weights[index[a], index[b]] = d.get("weight", 1.0)
    result = solve_max_q(adjacency, directed)  # Q = 0 for a graph without edges, as recorded
    q, labels = float(result.q), np.asarray(result.communities)
    communities = {int(n): int(c) for n, c in zip(nodes, labels)}
    return Network(g, nodes, adjacency, weights, communities, q, directed)


def unit_dependence(h: History, genome: np.ndarray):
    """``evosim.dependence``'s measures of a run's network: Boolean derivatives for evolved
    networks, node derivatives over the training data for trained ones."""
    from evosim.dependence import halves_of, network_dependence, trained_dependence

    task, _ = task_of(h)
    if not h.trained_weights:
        return network_dependence(task, genome, halves_of(task))
    from evosim.gradient.recording import trained_network

    config = cfg.loads(h.config_toml)
    params, dataset = trained_network(config, task, genome)
    return trained_dependence(params, dataset.x_train, config.gradient.activation,
                              dataset.halves)
