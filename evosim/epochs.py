"""Goal epochs: one record per epoch of what the best network achieved and what it was made of.

A run's modularity means something only on networks that do the task: the best individual of the
generation after a switch is usually an unsolved near-miss of the new goal.  So every goal epoch
(``schedule.period`` rows; for a fixed goal too) gets a row in ``/epochs``: whether and how soon
its goal was solved, the best at its last row, and the measures of its *last solving best* (the
best individual of the epoch's last generation that solved the goal in force), with that
network's genome.  The recorder sees the run block by block and keeps the epoch in progress
across blocks; after a resume it rebuilds that epoch from the history rows and the checkpointed
genome of its last solving best.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from evosim.dependence import Dependence
from evosim.goals import Schedule
from evosim.io import EPOCH_COLUMNS
from evosim.modularity import QmResult


@dataclass(frozen=True)
class NetworkMeasures:
    """What the recorder needs of one genome's network."""

    n_nodes: int
    n_edges: int
    adjacency: np.ndarray
    q: float
    exact: bool


def qm_due(schedule: Schedule, rows: np.ndarray, last: int, every: int) -> np.ndarray:
    """Rows where Qm is computed: the last row of every ``every``-th goal epoch and of the goal
    epoch before it where that one's goal differs (``Schedule.sampled_epochs``; epochs without
    selection are not counted), and the run's last row (0 = never)."""
    rows = np.asarray(rows)
    if not every:
        return np.zeros(rows.shape, dtype=bool)
    epoch = schedule.epoch_of(rows)
    ends = (schedule.epoch_of(rows + 1) != epoch) & schedule.sampled_epochs(epoch, every)
    return ends | (rows == last)


class EpochRecorder:
    """Turns the per-generation best of each block into finished ``/epochs`` rows.

    ``measure(genome)`` gives a genome's network measures, ``qm(adjacency)`` its Qm record and
    ``dependence(genome)`` how its units depend on the input halves (None: not defined for it);
    the last two are computed for the solving network of the sampled epochs (``qm_due``) and of
    the last."""

    def __init__(self, schedule: Schedule, last: int,
                 measure: Callable[[np.ndarray], NetworkMeasures],
                 qm: Callable[[np.ndarray], QmResult], qm_epochs: int, genome_width: int,
                 genome_dtype, dependence: Callable[[np.ndarray], Dependence | None]):
        self.schedule, self.last = schedule, last
        self.measure, self.qm, self.qm_epochs = measure, qm, qm_epochs
        self.dependence = dependence
        self.blank = np.zeros(genome_width, dtype=genome_dtype)
        self._open = _OpenEpoch(self.blank)

    @property
    def solving_genome(self) -> np.ndarray:
        """The genome of the open epoch's last solving best (zeros if none): checkpointed."""
        return self._open.genome

    def restore(self, history: Mapping[str, np.ndarray], genome: np.ndarray | None) -> None:
        """Rebuild the open epoch from the history rows kept by a resume (those before its next
        generation) and the checkpointed genome of its last solving best."""
        gens = np.asarray(history["generation"])
        if not gens.size:
            return
        epoch = int(self.schedule.epoch_of(gens[-1]))
        if self._ends(gens[-1]):
            return  # the resume starts a new epoch
        inside = self.schedule.epoch_of(gens) == epoch
        self._open = _OpenEpoch(self.blank)
        self._open.scan(gens[inside], np.asarray(history["fitness_best"])[inside] == 1.0,
                        np.asarray(history["cost_best"])[inside], None)
        if self._open.solved_at >= 0 and genome is not None:
            self._open.genome = np.array(genome, dtype=self.blank.dtype)

    def add(self, generation: np.ndarray, fitness_best: np.ndarray, cost_best: np.ndarray,
            best_genome: np.ndarray, goal: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Feed one block; return the epochs it finished (columns, genomes).

        Returns
        -------
        columns : dict of str to numpy.ndarray
            One array per ``EPOCH_COLUMNS`` name (of its dtype), one entry per finished epoch.
        genomes : numpy.ndarray
            [n_finished, genome_width]: each finished epoch's last solving best, or its last best
            if it was not solved.
        """
        rows: list[dict] = []
        genomes: list[np.ndarray] = []
        epoch = self.schedule.epoch_of(generation)
        cuts = np.flatnonzero(np.diff(epoch)) + 1
        for part in np.split(np.arange(len(generation)), cuts):
            self._open.scan(generation[part], fitness_best[part] == 1.0, cost_best[part],
                            best_genome[part])
            end = part[-1]
            if self._ends(generation[end]):
                row, genome = self._finish(int(epoch[end]), int(generation[end]),
                                           int(goal[end]), float(fitness_best[end]),
                                           best_genome[end])
                rows.append(row)
                genomes.append(genome)
                self._open = _OpenEpoch(self.blank)
        columns = {name: np.array([r[name] for r in rows], dtype=dtype)
                   for name, dtype in EPOCH_COLUMNS.items()}
        stacked = np.stack(genomes) if genomes else np.zeros((0, self.blank.size), self.blank.dtype)
        return columns, stacked

    def _ends(self, generation: int) -> bool:
        return generation == self.last or bool(
            self.schedule.epoch_of(generation + 1) != self.schedule.epoch_of(generation))

    def _finish(self, epoch: int, end: int, goal: int, fitness_end: float,
                end_genome: np.ndarray) -> tuple[dict, np.ndarray]:
        o = self._open
        start = epoch * self.schedule.period + self.schedule.offset if epoch else 0
        row = {"epoch": epoch, "start": start, "length": end - start + 1, "goal": goal,
               "solved": o.solved_at >= 0,
               "first_solved": o.first_solved - start if o.first_solved >= 0 else -1,
               "solved_at": o.solved_at, "fitness_end": fitness_end,
               "q_end": self.measure(end_genome).q}
        nan = float("nan")
        row.update(q_solved=nan, q_solved_exact=False, cost_solved=nan, n_nodes_solved=0,
                   n_edges_solved=0, qm_solved=nan, z_solved=nan, q_rand_solved=nan,
                   q_max_solved=nan, one_sided_solved=nan, q_dependency_solved=nan,
                   q_dependency_exact=False)
        if o.solved_at < 0:
            return row, np.array(end_genome, dtype=self.blank.dtype)
        net = self.measure(o.genome)
        row.update(q_solved=net.q, q_solved_exact=net.exact, cost_solved=o.cost,
                   n_nodes_solved=net.n_nodes, n_edges_solved=net.n_edges)
        if self.qm_epochs and (self.schedule.sampled_epochs(epoch, self.qm_epochs)
                               or end == self.last):
            r = self.qm(net.adjacency)
            row.update(qm_solved=r.qm, z_solved=r.z, q_rand_solved=r.q_rand,
                       q_max_solved=r.q_max)
            d = self.dependence(o.genome)
            if d is not None:
                row.update(one_sided_solved=d.one_sided, q_dependency_solved=d.q_dependency,
                           q_dependency_exact=d.q_exact)
        return row, o.genome.copy()


class _OpenEpoch:
    """The epoch in progress: its first and last solving generations, the last solver."""

    def __init__(self, blank: np.ndarray):
        self.first_solved = -1
        self.solved_at = -1
        self.cost = float("nan")
        self.genome = blank

    def scan(self, generation, solved, cost, genomes) -> None:
        hits = np.flatnonzero(solved)
        if not hits.size:
            return
        if self.first_solved < 0:
            self.first_solved = int(generation[hits[0]])
        self.solved_at = int(generation[hits[-1]])
        self.cost = float(cost[hits[-1]])
        if genomes is not None:
            self.genome = np.array(genomes[hits[-1]])
