"""The named records the generation loops take, built in one place from a run's config.

``EngineParams`` holds what the loops read from [selection], [variation] and [cost] besides the
task (whose own record comes from ``task.kernel_constants``); ``Statistics`` is the block of
per-generation rows a loop writes. Both are NamedTuples: Numba compiles field access by name.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from evosim import counter_rng as crng

ELITIST, TOURNAMENT, NSGA2 = 0, 1, 2
SCHEMES = {"elitist": ELITIST, "tournament": TOURNAMENT, "nsga2": NSGA2}


class EngineParams(NamedTuple):
    """Selection and the task-independent part of variation."""

    scheme: int                       # ELITIST, TOURNAMENT or NSGA2
    n_elite: int                      # genomes passed on unchanged (0 under NSGA-II)
    tournament_size: int
    crossover: np.uint64              # coin threshold of a pair's one-point crossover
    n_rows: int                       # rows of the task's truth table (performance = correct / n_rows)
    cost_weight: float                # the cost penalty's weight (0: none, or NSGA-II)
    unique: bool                      # NSGA-II: copies sink below every distinct genome
    objective_thresholds: np.ndarray  # uint64[3]: coin thresholds of counting each objective
    diversity: bool                   # NSGA-II: behavioural diversity as a third objective
    per_check: bool                   # NSGA-II: fresh coins at every dominance check (Clune)
    selected: np.ndarray              # bool[generations + 1]: False where nothing selects (vg0)


class Statistics(NamedTuple):
    """One row per generation of a block, written by the loops."""

    score_best: np.ndarray    # int64[B]: rows correct of the best
    score_sum: np.ndarray     # int64[B]
    cost_best: np.ndarray     # float64[B]
    cost_sum: np.ndarray      # float64[B]
    front0: np.ndarray        # int64[B]: NSGA-II's first front in the population (else 0)
    best_genomes: np.ndarray  # [B, L]: genome of the best

    @classmethod
    def empty(cls, rows: int | tuple[int, ...], genome_length: int, dtype,
              xp=np) -> "Statistics":
        """Uninitialised fields for ``rows`` generations (a shape: (generations, runs) for the
        batched engine), on the device of the array module ``xp``."""
        shape = (rows,) if isinstance(rows, int) else tuple(rows)
        return cls(xp.empty(shape, dtype=np.int64), xp.empty(shape, dtype=np.int64),
                   xp.empty(shape), xp.empty(shape), xp.empty(shape, dtype=np.int64),
                   xp.empty(shape + (genome_length,), dtype=dtype))


def engine_params(config, n_rows: int, selected: np.ndarray | None = None) -> EngineParams:
    """The loops' parameters from a run's [run], [selection], [variation] and [cost] sections,
    and the schedule's generations without selection (``selected``; None: every one selects)."""
    sel, cost = config.selection, config.cost
    scheme = SCHEMES[sel.scheme]
    costed = cost.kind != "none"
    return EngineParams(
        scheme=scheme,
        n_elite=round(sel.elite_fraction * config.run.population) if scheme != NSGA2 else 0,
        tournament_size=int(sel.tournament_size),
        crossover=np.uint64(crng.threshold(config.variation.crossover_rate)),
        n_rows=int(n_rows),
        cost_weight=float(cost.weight) if costed and scheme != NSGA2 else 0.0,
        unique=bool(sel.unique),
        objective_thresholds=np.array([crng.ALWAYS, crng.threshold(cost.p) if costed else 0,
                                       crng.ALWAYS], dtype=np.uint64),
        diversity=bool(sel.diversity) and scheme == NSGA2,
        per_check=cost.coins == "per-check" and scheme == NSGA2,
        selected=(np.ones(config.run.generations + 1, dtype=np.bool_) if selected is None
                  else np.ascontiguousarray(selected, dtype=np.bool_)))
