"""Per-generation measures of an evolving population's best network: size, exact max Q, Qm."""
from __future__ import annotations

import numpy as np

from evosim import config as cfg
from evosim.counter_rng import seed_streams
from evosim.engine import Block
from evosim.io import HISTORY_COLUMNS
from evosim.modularity import ModularityCache
from evosim.tasks.logic import edges_to_adjacency


def modularity_seed(seed: int) -> int:
    """The seed of Qm's null models: fixed per run, so a graph's Qm does not depend on when (or
    whether, after a resume) it was computed before."""
    return int(seed_streams(seed)["modularity"].generate_state(1)[0])


class BestNetworkMeter:
    """Per-generation measures of the best individual: size, exact max Q, and Qm now and then."""

    def __init__(self, task, config: cfg.Config):
        m = config.modularity
        self.task = task
        self.every, self.qm_every, self.qm_samples = m.every, m.qm_every, m.qm_samples
        self.last_generation = config.run.generations
        self.directed = m.directed
        self.cost_kind = config.cost.kind
        self.cache = ModularityCache(directed=m.directed, exact_limit=m.exact_limit)
        self.qm_seed = modularity_seed(config.run.seed)
        self.q_methods: set[str] = set()      # recorded in the file: no heuristic goes unnamed
        self.null_models: set[str] = set()
        self._previous: tuple[np.ndarray, tuple] | None = None

    def measure(self, block: Block) -> dict[str, np.ndarray]:
        n = len(block.generation)
        rows = {name: np.empty(n, dtype=dtype) for name, dtype in HISTORY_COLUMNS.items()}
        rows["generation"][:] = block.generation
        rows["goal"][:] = block.goal
        rows["fitness_best"][:] = block.fitness_best
        rows["fitness_mean"][:] = block.fitness_mean
        rows["solved"][:] = block.fitness_best == 1.0
        has_cost = self.cost_kind != "none"
        rows["cost_best"][:] = block.cost_best if has_cost else np.nan
        rows["cost_mean"][:] = block.cost_mean if has_cost else np.nan
        rows["front0_size"][:] = block.front0_size
        # measure only where the best genome changed (about one generation in eight), then fill
        genomes = block.best_genome
        changed = np.ones(n, dtype=bool)
        changed[1:] = (genomes[1:] != genomes[:-1]).any(axis=1)
        if self._previous is not None:
            changed[0] = not np.array_equal(self._previous[0], genomes[0])
        where = np.flatnonzero(changed)
        values = [self._network(genomes[i]) for i in where]
        if self._previous is not None and not changed[0]:
            where, values = np.concatenate([[0], where]), [self._previous[1], *values]
        self._previous = (genomes[-1].copy(), values[-1])
        fill = np.searchsorted(where, np.arange(n), side="right") - 1
        for column, k in (("n_nodes_best", 0), ("n_edges_best", 1), ("q_best", 3),
                          ("q_exact", 4)):
            rows[column][:] = np.array([v[k] for v in values])[fill]
        unmeasured = (block.generation % self.every != 0) if self.every else np.ones(n, bool)
        rows["q_best"][unmeasured] = np.nan
        rows["q_exact"][unmeasured] = False
        rows["qm_best"][:] = np.nan
        if self.qm_every:
            gens = block.generation
            for i in np.flatnonzero((gens % self.qm_every == 0) | (gens == self.last_generation)):
                rows["qm_best"][i] = self._qm(values[fill[i]][2])
        return rows

    def _qm(self, adjacency: np.ndarray) -> float:
        result = self.cache.qm(adjacency, n_samples=self.qm_samples, seed=self.qm_seed)
        self.null_models.add(result.null_model)
        return result.qm

    def _network(self, genome: np.ndarray) -> tuple:
        """(n_nodes, n_edges, adjacency, q, exact) of one genome's functional network."""
        nodes, edges = self.task.functional_network(genome)
        adjacency = edges_to_adjacency(nodes, edges, self.directed)
        result = self.cache.max_q(adjacency) if self.every else None
        if result:
            self.q_methods.add(result.method)
        return (len(nodes), len(edges), adjacency,
                result.q if result else np.nan, bool(result and result.exact))
