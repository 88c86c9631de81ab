"""The run file's layout (DESIGN.md): one HDF5 file per run. Bump SCHEMA_VERSION on any change."""
from __future__ import annotations

import numpy as np

SCHEMA_VERSION = 1

# /history/<column>: one row per generation (or epoch). NaN marks "not computed".
HISTORY_COLUMNS: dict[str, np.dtype] = {
    "generation": np.dtype(np.int64),
    "goal": np.dtype(np.int32),          # row of /goals
    "fitness_best": np.dtype(np.float64),
    "fitness_mean": np.dtype(np.float64),
    "q_best": np.dtype(np.float64),      # max Q of the best individual's functional network
    "q_exact": np.dtype(np.bool_),       # q_best is the proven maximum (not a heuristic's)
    "qm_best": np.dtype(np.float64),
    "cost_best": np.dtype(np.float64),   # connection cost of the best (NaN without a cost)
    "cost_mean": np.dtype(np.float64),
    "front0_size": np.dtype(np.int32),   # NSGA-II: size of the population's first front (else 0)
    "n_nodes_best": np.dtype(np.int32),
    "n_edges_best": np.dtype(np.int32),
    "solved": np.dtype(np.bool_),        # fitness_best == 1
}

ROOT_ATTRS = ("schema_version", "evosim_version", "task", "mode", "seed", "config", "created",
              "status", "engine", "q_method", "qm_null_model")
STATUSES = ("running", "complete", "interrupted")
