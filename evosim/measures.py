"""Measures of an evolving population's best network: size and exact max Q every generation, Qm
at goal-epoch ends, and the ``/epochs`` records of its solving networks."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from evosim import config as cfg
from evosim.counter_rng import seed_streams
from evosim.engine import Block
from evosim.epochs import EpochRecorder, NetworkMeasures, qm_due
from evosim.goals import Schedule
from evosim.io import HISTORY_COLUMNS
from evosim.modularity import ModularityCache, NullModel, QmResult
from evosim.tasks.logic import edges_to_adjacency

QM_COLUMNS = {"qm_best": "qm", "q_rand": "q_rand", "q_rand_sd": "q_rand_sd", "q_max": "q_max",
              "z": "z"}


def modularity_seed(seed: int) -> int:
    """The seed of Qm's null models: fixed per run, so a graph's Qm does not depend on when (or
    whether, after a resume) it was computed before."""
    return int(seed_streams(seed)["modularity"].generate_state(1)[0])


class Measured(NamedTuple):
    """What a meter makes of one block: history rows, finished epochs (with their ``genome``),
    and the open epoch's solving genome (for the checkpoint)."""

    rows: dict[str, np.ndarray]
    epochs: dict[str, np.ndarray]
    solving_genome: np.ndarray


class QmMeter:
    """Qm records of networks, memoised, with the names of what was used (for the run file)."""

    def __init__(self, config: cfg.Config, null: NullModel | None = None):
        m = config.modularity
        self.cache = ModularityCache(directed=m.directed, exact_limit=m.exact_limit)
        self.settings = dict(n_samples=m.qm_samples, seed=modularity_seed(config.run.seed),
                             null=null, qmax_restarts=m.qmax_restarts, qmax_sweeps=m.qmax_sweeps)
        self.q_methods: set[str] = set()      # recorded in the file: no heuristic goes unnamed
        self.null_models: set[str] = set()

    def qm(self, adjacency: np.ndarray) -> QmResult:
        result = self.cache.qm(adjacency, **self.settings)
        self.null_models.add(result.null_model)
        self.q_methods.add(result.q_method)
        return result

    def fill(self, rows: dict[str, np.ndarray], due: np.ndarray, adjacency_of) -> None:
        """Qm columns of the rows ``due``; NaN elsewhere. ``adjacency_of(i)`` is row i's graph."""
        for column in QM_COLUMNS:
            rows[column][:] = np.nan
        for i in np.flatnonzero(due):
            record = self.qm(adjacency_of(i))
            for column, field in QM_COLUMNS.items():
                rows[column][i] = getattr(record, field)


class NetworkMeter:
    """What both modes' meters share: the Qm meter (and its cache), the /epochs recorder, and
    the names of the methods used. A subclass gives ``network(genome)`` and ``measure(block)``."""

    def __init__(self, config: cfg.Config, schedule: Schedule, null: NullModel | None,
                 genome_width: int, genome_dtype):
        m = config.modularity
        self.schedule, self.every, self.qm_epochs = schedule, m.every, m.qm_epochs
        self.last = config.run.generations
        self.qm_meter = QmMeter(config, null)
        self.cache = self.qm_meter.cache
        self.epochs = EpochRecorder(schedule, self.last, self.network, self.qm_meter.qm,
                                    m.qm_epochs, genome_width, genome_dtype)

    def network(self, genome: np.ndarray) -> NetworkMeasures:
        raise NotImplementedError

    @property
    def q_methods(self) -> set[str]:
        return self.qm_meter.q_methods

    @property
    def null_models(self) -> set[str]:
        return self.qm_meter.null_models

    def restore(self, history, solving_genome) -> None:
        self.epochs.restore(history, solving_genome)

    def measured_rows(self, generations: np.ndarray) -> np.ndarray:
        """Rows whose q_best is recorded: every ``modularity.every``-th, at epoch ends."""
        if not self.every:
            return np.zeros(len(generations), dtype=bool)
        return (self.schedule.phase_end(generations, self.every) | (generations == 0)
                | (generations == self.last))


class BestNetworkMeter(NetworkMeter):
    """Per-generation measures of the best individual, Qm at epoch ends, and /epochs."""

    def __init__(self, task, config: cfg.Config, schedule: Schedule):
        self.task = task
        self.directed = config.modularity.directed
        self.cost_kind = config.cost.kind
        super().__init__(config, schedule, None, task.genome_length, np.int16)
        self._previous: tuple[np.ndarray, NetworkMeasures] | None = None

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
