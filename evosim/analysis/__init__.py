"""Analysis of run files: per-run tables and statistics (:mod:`.runs`), figures (:mod:`.plots`),
flat-file export (:mod:`.export`) and the networks behind snapshots (:mod:`.networks`).

Only :mod:`.runs` is imported here, so ``import evosim.analysis`` stays light (no matplotlib, no
Numba task kernels); import the other modules where they are needed.
"""
from evosim.analysis.runs import (DEFAULT_LAST, RunSummary, Speedup, bootstrap_ci, censored_times,
                                  epochs, load_runs, mann_whitney, mean_sd, resolve_times,
                                  speedup, summarise, summarise_runs, tail_mean, time_to_solve,
                                  trajectories)

__all__ = ["DEFAULT_LAST", "RunSummary", "Speedup", "bootstrap_ci", "censored_times", "epochs",
           "load_runs", "mann_whitney", "mean_sd", "resolve_times", "speedup", "summarise",
           "summarise_runs", "tail_mean", "time_to_solve", "trajectories"]
