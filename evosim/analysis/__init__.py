"""Analysis of run files: per-run measures from ``/epochs`` (:mod:`.runs`), conditions from the
recorded configs (:mod:`.conditions`), statistics (:mod:`.stats`), Markdown tables
(:mod:`.report`), the ``evosim compare`` report (:mod:`.compare`), figures (:mod:`.plots`),
flat-file export (:mod:`.export`), tidy pandas tables of many runs (:mod:`.tables`:
``load_runs``) and the networks behind stored genomes (:mod:`.networks`).

Only :mod:`.runs`, :mod:`.conditions` and :mod:`.stats` are imported here, so
``import evosim.analysis`` stays light (no matplotlib, no Numba task kernels); import the other
modules where they are needed.
"""
from evosim.analysis.conditions import (MIN_RUNS, Condition, condition_warnings, differing_keys,
                                        flat_config, group_runs, load_conditions, load_sources)
from evosim.analysis.runs import (DEFAULT_LAST_EPOCHS, DEFAULT_MEASURES, MEASURES,
                                  AnalysisError, Measure, RunSummary, Speedup, censored_t_solve,
                                  censored_times, epoch_mean, epoch_series, full_epochs,
                                  get_measure, median_resolve, period_of, q_end_mean,
                                  resolve_rate, solved_rate_all, speedup, summarise,
                                  time_to_solve, trajectories)
from evosim.analysis.tables import load_runs
from evosim.analysis.stats import (bootstrap_ci, cliffs_delta, mann_whitney, mean_sd,
                                   rolling_median)

__all__ = ["MIN_RUNS", "Condition", "condition_warnings", "differing_keys", "flat_config",
           "group_runs", "load_conditions", "load_sources", "DEFAULT_LAST_EPOCHS",
           "DEFAULT_MEASURES", "MEASURES", "AnalysisError", "Measure", "RunSummary", "Speedup",
           "censored_t_solve", "censored_times", "epoch_mean", "epoch_series", "full_epochs",
           "get_measure", "load_runs", "median_resolve", "period_of", "q_end_mean",
           "resolve_rate", "solved_rate_all", "speedup", "summarise", "time_to_solve",
           "trajectories", "bootstrap_ci", "cliffs_delta", "mann_whitney", "mean_sd",
           "rolling_median"]
