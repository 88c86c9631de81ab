"""The run file's layout (DESIGN.md): one HDF5 file per run. Bump SCHEMA_VERSION on any change."""
from __future__ import annotations

import numpy as np

SCHEMA_VERSION = 4  # 2: /epochs; q_rand, q_rand_sd, q_max, z in /history. 3: dependence in /epochs.
#                     4: dimension scales (generation, epoch, gene, goal), description and units

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

# What each dataset holds and its units (netCDF's "1": a pure number), written as the dataset's
# ``description`` and ``units`` attributes. Keys are paths; ``describe`` covers names made per run.
_COST = "connections or squared length (cost.kind)"
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "history/generation": ("the row's generation (gradient mode: training epoch)", "generation"),
    "history/goal": ("the goal in force: row of /goals/name", "1"),
    "history/fitness_best": ("performance of the best: fraction of rows right", "1"),
    "history/fitness_mean": ("mean performance of the population", "1"),
    "history/q_best": ("max Newman modularity Q of the best's functional network", "1"),
    "history/q_exact": ("q_best is the proven maximum, not a heuristic's", "boolean"),
    "history/qm_best": ("Qm = (Q - Q_rand) / (Q_max - Q_rand) of the best (NaN: not computed)",
                        "1"),
    "history/q_rand": ("mean max Q of the best's null model, where Qm is computed", "1"),
    "history/q_rand_sd": ("standard deviation of the null model's max Q", "1"),
    "history/q_max": ("largest max Q found in the null family", "1"),
    "history/z": ("(q_best - q_rand) / q_rand_sd", "standard deviations"),
    "history/cost_best": ("connection cost of the best (NaN without a cost)", _COST),
    "history/cost_mean": ("mean connection cost of the population", _COST),
    "history/front0_size": ("NSGA-II: individuals in the population's first front (else 0)",
                            "individuals"),
    "history/n_nodes_best": ("nodes of the best's functional network", "nodes"),
    "history/n_edges_best": ("edges of the best's functional network", "edges"),
    "history/solved": ("fitness_best == 1", "boolean"),
    "history/loss_train": ("training loss at the epoch's end", "1"),
    "history/loss_test": ("test loss at the epoch's end", "1"),
    "history/accuracy_train": ("fraction of training rows right", "1"),
    "history/accuracy_test": ("fraction of test rows right", "1"),
    "history/activation_change": ("mean absolute change of hidden activations over the epoch",
                                  "1"),
    "history/relaxed_loss": ("loss of the relaxed (continuous) network", "1"),
    "history/relaxed_accuracy": ("fraction of rows the relaxed network gets right", "1"),
    "history/discretisation_gap": ("relaxed accuracy minus the discretised network's", "1"),
    "history/temperature": ("the relaxation's temperature", "1"),
    "epochs/epoch": ("goal epoch: a run of rows under one goal", "epoch"),
    "epochs/start": ("the epoch's first generation (gradient mode: training epoch)",
                     "generation"),
    "epochs/length": ("rows in the epoch (the run's last may be shorter)", "generations"),
    "epochs/goal": ("the epoch's goal: row of /goals/name", "1"),
    "epochs/solved": ("the best solved the goal at some row of the epoch", "boolean"),
    "epochs/first_solved": ("rows from the start to the first solution; -1: none",
                            "generations"),
    "epochs/solved_at": ("generation of the last solving best; -1: none", "generation"),
    "epochs/fitness_end": ("the best's performance at the epoch's last row", "1"),
    "epochs/q_end": ("max Q of the best at the epoch's last row", "1"),
    "epochs/q_solved": ("max Q of the last solving best (NaN: unsolved)", "1"),
    "epochs/q_solved_exact": ("q_solved is the proven maximum", "boolean"),
    "epochs/cost_solved": ("connection cost of the last solving best (NaN without a cost)",
                           _COST),
    "epochs/n_nodes_solved": ("nodes of the last solving best's functional network", "nodes"),
    "epochs/n_edges_solved": ("edges of the last solving best's functional network", "edges"),
    "epochs/qm_solved": ("Qm of the last solving best (NaN: not computed)", "1"),
    "epochs/z_solved": ("z of the last solving best (NaN: not computed)",
                        "standard deviations"),
    "epochs/q_rand_solved": ("its null model's mean max Q", "1"),
    "epochs/q_max_solved": ("the largest max Q of its null family", "1"),
    "epochs/one_sided_solved": ("fraction of its units that use one input half only", "1"),
    "epochs/q_dependency_solved": ("max Q of its unit-input dependency graph", "1"),
    "epochs/q_dependency_exact": ("q_dependency_solved is the proven maximum", "boolean"),
    "epochs/genome": ("genome of the last solving best (of the best at the end if unsolved)",
                      "gene values"),
    "snapshots/generation": ("generation of each stored genome", "generation"),
    "snapshots/genome": ("the best's genome at that generation", "gene values"),
    "goals/name": ("goal names", ""),
    "goals/target": ("each goal's target on every row of the truth table (digit pairs: its "
                     "coefficients)", "1"),
    "goals/row": ("row of the truth table (digit pairs: coefficient)", "1"),
    "gene": ("index into a genome (gradient MLPs: into the flattened weights and biases)", "1"),
    "checkpoint/engine_key": ("the engine's 64-bit key: with the generation, the RNG state", "1"),
    "checkpoint/active": ("the checkpoint slot (0 or 1) to resume from", "1"),
    "checkpoint/generation": ("the generation each slot resumes at (-1: empty)", "generation"),
    "checkpoint/epoch_genome": ("each slot's open epoch's last solving genome", "gene values"),
    "gradient/layer_sizes": ("units per layer, inputs first", "units"),
    "gradient/train_rows": ("rows of the task's data set trained on", "1"),
    "gradient/test_rows": ("rows of the task's data set held out", "1"),
}


def describe(path: str) -> tuple[str, str]:
    """(description, units) of the dataset at ``path`` (no leading slash)."""
    if path in DESCRIPTIONS:
        return DESCRIPTIONS[path]
    group, _, name = path.rpartition("/")
    if name.startswith("activation_change_layer"):
        layer = name.removeprefix("activation_change_layer")
        return f"activation change of hidden layer {layer}", "1"
    if group == "checkpoint":
        return f"the run's state to resume from: {name}, one row per slot", "1"
    return name.replace("_", " "), "1"


ROOT_ATTRS = ("schema_version", "evosim_version", "task", "mode", "seed", "config", "created",
              "status", "engine", "q_method", "qm_null_model")
STATUSES = ("running", "complete", "interrupted")
