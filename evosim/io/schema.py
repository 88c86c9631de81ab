"""The run file's layout (DESIGN.md): one HDF5 file per run. Bump SCHEMA_VERSION on any change."""
from __future__ import annotations

import numpy as np

SCHEMA_VERSION = 3  # 2: /epochs; q_rand, q_rand_sd, q_max, z in /history. 3: dependence in /epochs

# /history/<column>: one row per generation (or epoch). NaN marks "not computed".
HISTORY_COLUMNS: dict[str, np.dtype] = {
    "generation": np.dtype(np.int64),
    "goal": np.dtype(np.int32),          # row of /goals
    "fitness_best": np.dtype(np.float64),
    "fitness_mean": np.dtype(np.float64),
    "q_best": np.dtype(np.float64),      # max Q of the best individual's functional network
    "q_exact": np.dtype(np.bool_),       # q_best is the proven maximum (not a heuristic's)
    "qm_best": np.dtype(np.float64),     # Qm of the best (NaN where not computed)
    "q_rand": np.dtype(np.float64),      # its null model's mean max Q, where Qm is computed
    "q_rand_sd": np.dtype(np.float64),   # and their standard deviation
    "q_max": np.dtype(np.float64),       # the largest max Q found in its null family
    "z": np.dtype(np.float64),           # (q_best - q_rand) / q_rand_sd
    "cost_best": np.dtype(np.float64),   # connection cost of the best (NaN without a cost)
    "cost_mean": np.dtype(np.float64),
    "front0_size": np.dtype(np.int32),   # NSGA-II: size of the population's first front (else 0)
    "n_nodes_best": np.dtype(np.int32),
    "n_edges_best": np.dtype(np.int32),
    "solved": np.dtype(np.bool_),        # fitness_best == 1
}

# /epochs/<column>: one row per goal epoch (see evosim.epochs); /epochs/genome beside them.
EPOCH_COLUMNS: dict[str, np.dtype] = {
    "epoch": np.dtype(np.int64),
    "start": np.dtype(np.int64),         # first generation (gradient mode: training epoch)
    "length": np.dtype(np.int64),        # rows in the epoch (the run's last may be shorter)
    "goal": np.dtype(np.int32),          # row of /goals
    "solved": np.dtype(np.bool_),        # the best solved the goal at some row of the epoch
    "first_solved": np.dtype(np.int64),  # rows from the start to the first solution; -1: none
    "solved_at": np.dtype(np.int64),     # generation of the last solving best; -1: none
    "fitness_end": np.dtype(np.float64), # the best's performance at the epoch's last row
    "q_end": np.dtype(np.float64),       # max Q of the best at the epoch's last row
    "q_solved": np.dtype(np.float64),    # max Q of the last solving best (NaN: unsolved)
    "q_solved_exact": np.dtype(np.bool_),
    "cost_solved": np.dtype(np.float64), # its connection cost (NaN without a cost)
    "n_nodes_solved": np.dtype(np.int32),
    "n_edges_solved": np.dtype(np.int32),
    "qm_solved": np.dtype(np.float64),   # its Qm (NaN where not computed)
    "z_solved": np.dtype(np.float64),
    "q_rand_solved": np.dtype(np.float64),
    "q_max_solved": np.dtype(np.float64),
    # how its units depend on the input halves (evosim.dependence), where Qm is computed
    "one_sided_solved": np.dtype(np.float64),    # fraction of units using one half only
    "q_dependency_solved": np.dtype(np.float64), # max Q of the unit-input dependency graph
    "q_dependency_exact": np.dtype(np.bool_),
}

# /epochs columns added after schema 2, with the value a resumed older file gets for its rows
EPOCH_COLUMNS_SINCE = {3: {"one_sided_solved": np.nan, "q_dependency_solved": np.nan,
                           "q_dependency_exact": False}}


def upgraded_epochs(epochs: dict[str, np.ndarray], version: int) -> dict[str, np.ndarray]:
    """An older file's /epochs columns with those added since schema ``version`` filled with
    their "not computed" value, so readers and a resume see every column of this schema."""
    if not epochs:
        return epochs
    n = len(next(iter(epochs.values())))
    for since, added in EPOCH_COLUMNS_SINCE.items():
        if version < since:
            epochs.update({name: np.full(n, value, dtype=EPOCH_COLUMNS[name])
                           for name, value in added.items() if name not in epochs})
    return epochs

ROOT_ATTRS = ("schema_version", "evosim_version", "task", "mode", "seed", "config", "created",
              "status", "engine", "q_method", "qm_null_model")
STATUSES = ("running", "complete", "interrupted")
