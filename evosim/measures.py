"""Evolution's side of the recording protocol (``evosim.recording``): the engine's blocks, and
the measures of the population's best network (size and exact max Q every generation, Qm at
goal-epoch ends, the ``/epochs`` records of its solving networks)."""
from __future__ import annotations

import numpy as np

from evosim import config as cfg
from evosim.dependence import Dependence, halves_of, network_dependence
from evosim.engine import evolve, restore_state, state_rows
from evosim.epochs import NetworkMeasures, qm_due
from evosim.goals import Schedule
from evosim.io import HISTORY_COLUMNS
from evosim.recording import Block, Measured, NetworkMeter, RunSource
from evosim.tasks.logic import edges_to_adjacency


class BestNetworkMeter(NetworkMeter):
    """Per-generation measures of the best individual, Qm at epoch ends, and /epochs."""

    def __init__(self, task, config: cfg.Config, schedule: Schedule):
        self.task = task
        self.directed = config.modularity.directed
        self.cost_kind = config.cost.kind
        super().__init__(config, schedule, None, task.genome_length, np.int16)
        self._previous: tuple[np.ndarray, NetworkMeasures] | None = None
        self.halves = halves_of(task)

    def measure(self, block: Block) -> Measured:
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
        rows.update(block.extra)  # a source's own columns (gradient-trained genome models')
        # measure only where the best genome changed (about one generation in eight), then fill
        genomes = block.best_genome
        changed = np.ones(n, dtype=bool)
        changed[1:] = (genomes[1:] != genomes[:-1]).any(axis=1)
        if self._previous is not None:
            changed[0] = not np.array_equal(self._previous[0], genomes[0])
        where = np.flatnonzero(changed)
        values = [self.network(genomes[i]) for i in where]
        if self._previous is not None and not changed[0]:
            where, values = np.concatenate([[0], where]), [self._previous[1], *values]
        self._previous = (genomes[-1].copy(), values[-1])
        fill = np.searchsorted(where, np.arange(n), side="right") - 1
        for column, field in (("n_nodes_best", "n_nodes"), ("n_edges_best", "n_edges"),
                              ("q_best", "q"), ("q_exact", "exact")):
            rows[column][:] = np.array([getattr(v, field) for v in values])[fill]
        gens = block.generation
        measured = self.measured_rows(gens)
        rows["q_best"][~measured] = np.nan
        rows["q_exact"][~measured] = False
        self.qm_meter.fill(rows, qm_due(self.schedule, gens, self.last, self.qm_epochs),
                           lambda i: values[fill[i]].adjacency)
        epochs, epoch_genomes = self.epochs.add(gens, block.fitness_best, rows["cost_best"],
                                                genomes, block.goal)
        return Measured(rows, {**epochs, "genome": epoch_genomes}, self.epochs.solving_genome)

    def network(self, genome: np.ndarray) -> NetworkMeasures:
        """One genome's functional network: its size, adjacency and exact max Q."""
        nodes, edges = self.task.functional_network(genome)
        adjacency = edges_to_adjacency(nodes, edges, self.directed)
        result = self.cache.max_q(adjacency)
        self.q_methods.add(result.method)
        return NetworkMeasures(len(nodes), len(edges), adjacency, result.q, bool(result.exact))

    def dependence(self, genome: np.ndarray) -> Dependence | None:
        """Boolean derivatives of its gates or neurons (None for recurrent circuits, whose
        units have no settled output per pattern)."""
        if getattr(self.task, "feedback", False):
            return None
        return network_dependence(self.task, genome, self.halves)


def evolution_source(config: cfg.Config, task, schedule: Schedule, key: np.uint64,
                     saved: tuple[int, dict[str, np.ndarray]] | None) -> RunSource:
    """The engine's blocks from a checkpoint's generation and arrays (``saved``; None:
    generation 0), measured by the best network.  A checkpoint that does not fit the config is
    refused (ValueError) before any kernel sees it."""
    state = restore_state(config, task, *saved) if saved is not None else None
    blocks = evolve(task, schedule, config, key, state, block_size=config.output.flush_every)
    return RunSource(blocks, BestNetworkMeter(task, config, schedule),
                     (config.run.population, task.genome_length), np.int16, {}, {},
                     {"genomes": ((state_rows(config), task.genome_length), np.int16)})
