"""NSGA-II's selection for many runs at once: the batched engine's step between its array code.

Each run's survivors and mating picks come from the very kernels a run alone uses
(``select_sorted`` or ``select_per_check``, then ``binary_tournament`` or
``dominance_tournament``), so every run of a batch selects exactly as it would alone. The sort is
sequential within a run (the sweep visits individuals best first), so it runs on the host's
cores, a thread per slice of runs (the kernel releases the GIL), while the population stays on
the batch's device and only the objectives and the picks cross.
"""
from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
from numba import njit

from evosim.engine.loops import OBJECTIVE_WEIGHTS
from evosim.engine.nsga2 import binary_tournament, select_sorted
from evosim.engine.nsga2.peeling import dominance_tournament, select_per_check
from evosim.engine.nsga2.sweep import sweep_order

WEIGHTS = OBJECTIVE_WEIGHTS[:2]  # performance up, cost down


def select_runs(correct: np.ndarray, cost: np.ndarray, thresholds: np.ndarray, n: int,
                keys: np.ndarray, generation: int, per_check: bool,
                pool: Executor | None = None,
                threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NSGA-II's environmental and mating selection of every run (rows of ``correct`` and
    ``cost``, [R, 2N], and of ``keys``, uint64[R]): (chosen[R, n], the survivors in sweep order;
    winners[R, n], the survivor each offspring copies; front0[R], the first front's size, at
    most n). With a ``pool``, ``threads`` of its threads share the runs; the result does not
    depend on them."""
    runs = correct.shape[0]
    chosen = np.empty((runs, n), dtype=np.int64)
    winners = np.empty((runs, n), dtype=np.int64)
    front0 = np.empty(runs, dtype=np.int64)
    bounds = np.linspace(0, runs, max(1, min(runs, threads)) + 1).astype(np.int64)

    def work(first: int, stop: int) -> None:
        _select_rows(correct, cost, thresholds, n, keys, generation, per_check, first, stop,
                     chosen, winners, front0)

    if pool is None or len(bounds) <= 2:
        work(0, runs)
    else:
        list(pool.map(work, bounds[:-1], bounds[1:]))
    return chosen, winners, front0


@njit(cache=True, nogil=True)
def _select_rows(correct, cost, thresholds, n, keys, generation, per_check, first, stop, chosen,
                 winners, front0) -> None:
    """``select_runs`` for runs first .. stop - 1, as ``loops.nsga2_generations`` selects."""
    values = np.empty((2, correct.shape[1])).T  # columns contiguous, as the loop's
    for r in range(first, stop):
        values[:, 0] = correct[r]
        values[:, 1] = cost[r]
        order = sweep_order(values, WEIGHTS, 0)
        if per_check:
            picked, rank, crowd, front0[r] = select_per_check(values, WEIGHTS, thresholds, n,
                                                              keys[r], generation, order)
            winners[r] = dominance_tournament(values[picked], WEIGHTS, thresholds,
                                              crowd[picked], n, keys[r], generation)
        else:
            picked, rank, crowd, front0[r] = select_sorted(values, WEIGHTS, thresholds, n,
                                                           keys[r], generation, order)
            winners[r] = binary_tournament(rank[picked], crowd[picked], n, keys[r], generation)
        chosen[r] = picked
