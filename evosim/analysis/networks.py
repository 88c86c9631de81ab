"""The networks behind a run file: its task rebuilt from the stored config, the best genome at a
snapshot, and that genome's functional network with its max-Q partition.

Kept apart from :mod:`runs` because it imports task code (Numba kernels), which the per-run tables do
not need.
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from evosim import config as cfg
from evosim.io import History
from evosim.modularity import solve_max_q
from evosim.tasks import get_task

__all__ = ["Network", "NoSnapshotError", "task_of", "snapshot_at", "network"]


class NoSnapshotError(LookupError):
    """No snapshot at or before the asked generation; the message is for users."""


@dataclass
class Network:
    """A genome's functional network; arrays are indexed like ``nodes``."""

    graph: nx.DiGraph
    nodes: np.ndarray
    adjacency: np.ndarray          # 0/1, directed or not as the run's Q
    weights: np.ndarray            # edge weights where the task has them (retina), else adjacency
    communities: dict[int, int]    # node -> community of the max-Q partition
    q: float
    directed: bool


def task_of(h: History):
    """(task, directed): the run's task and whether its Q is Leicht-Newman directed."""
    config = cfg.loads(h.config_toml)
    return get_task(config.task), bool(config.modularity.directed)


def snapshot_at(h: History, generation: int | None = None) -> tuple[int, np.ndarray]:
    """(generation, genome) of the last snapshot at or before ``generation`` (None: the last)."""
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
