"""The recording protocol both modes implement: a run's source (its blocks, the meter that
measures them, the run file's layout), the block a source yields and the state it checkpoints
(named arrays), the meter base class (Qm, the modularity cache, the
/epochs recorder, the methods and null models used) and what a meter makes of a block.

Evolution implements it in ``evosim.measures``, gradient training in
``evosim.gradient.recording``; the runner knows only this protocol.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, NamedTuple, Protocol

import numpy as np

from evosim import config as cfg
from evosim.counter_rng import seed_streams
from evosim.dependence import Dependence
from evosim.epochs import EpochRecorder, NetworkMeasures
from evosim.goals import Schedule
from evosim.modularity import ModularityCache, NullModel, QmResult


class State(Protocol):
    """What a source checkpoints: the next generation (or epoch) and its state as named arrays,
    from which the source continues exactly."""

    generation: int

    def arrays(self) -> dict[str, np.ndarray]: ...


@dataclass(frozen=True)
class Block:
    """A run of consecutive generations (or epochs), as a source yields them."""

    generation: np.ndarray       # int64[B]
    goal: np.ndarray             # int32[B]: row of the schedule's goal table
    fitness_best: np.ndarray     # float64[B]: performance of the best (fraction of rows right)
    fitness_mean: np.ndarray     # float64[B] (NaN: gradient mode has one network)
    cost_best: np.ndarray        # float64[B]: connection cost of the best (0 without a cost)
    cost_mean: np.ndarray        # float64[B]
    front0_size: np.ndarray      # int32[B]: NSGA-II's first front in the population (else 0)
    best_genome: np.ndarray      # [B, L]: the best's genome (gradient mode: its weights)
    state: State                 # the state after the block (a copy: safe to keep)
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # the source's own columns


class RunSource(NamedTuple):
    """Where a run's blocks come from, what measures them, and the run file's layout."""

    blocks: Iterator[Block]
    meter: Any                      # a NetworkMeter: measure(block) -> Measured, restore(), ...
    genome_shape: tuple[int, int]   # of a snapshot row
    genome_dtype: Any
    extra_columns: dict             # history columns beyond the schema's
    extra_data: dict                # fixed datasets (path -> array)
    checkpoint: dict[str, tuple[tuple[int, ...], Any]]  # the state's arrays: name -> shape, dtype


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
            for column, name in QM_COLUMNS.items():
                rows[column][i] = getattr(record, name)


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
                                    m.qm_epochs, genome_width, genome_dtype, self.dependence)

    def network(self, genome: np.ndarray) -> NetworkMeasures:
        raise NotImplementedError

    def dependence(self, genome: np.ndarray) -> Dependence | None:
        """How the genome's units depend on the input halves (``evosim.dependence``); None
        where that is not defined."""
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
