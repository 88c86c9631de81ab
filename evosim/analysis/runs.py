"""Per-run summaries and the statistics that compare conditions (folders of run files).

Everything here reads only what :func:`evosim.io.load` returns, so it works on runs that are still
being written and on gradient-trained runs (same schema; a "generation" is then an epoch).

Conventions (the reports quote them):

* An *epoch* is a maximal stretch of rows with the same ``goal``; a *switch* starts every epoch but
  the first.  Time to re-solve = generations from the switch to the first solved row of that epoch
  (0 if the best already solves the new goal at the switch); None if the epoch never solves it.
* T = the first generation whose best individual solved the goal in force; None if never.
* Speedup ``S = median T_fixed / median T_varying`` (Kashtan, Noor & Alon 2007).  Unsolved runs
  are *censored at the run length* (their T is taken to be the last generation), which keeps every
  run in the median; censoring fixed-goal runs makes S a lower bound, censoring varying-goal runs
  an upper bound.  :func:`speedup` returns the censored counts so reports can say how much this
  mattered.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from scipy import stats

from evosim.io import History, RunFileError, load

__all__ = ["RunSummary", "Speedup", "load_runs", "epochs", "time_to_solve", "resolve_times",
           "tail_mean", "summarise", "summarise_runs", "censored_times", "speedup", "mann_whitney",
           "bootstrap_ci", "mean_sd", "trajectories", "DEFAULT_LAST"]

DEFAULT_LAST = 1000


@dataclass
class RunSummary:
    """One row of the per-run table."""

    path: Path
    condition: str
    seed: int
    task: str
    mode: str
    schedule: str
    generations: int                       # last generation recorded
    status: str
    first_solved: dict[str, int | None] = field(default_factory=dict)
    t_solve: int | None = None             # T: first generation with solved
    q_last: float = math.nan               # mean q_best over the last k rows (NaN-aware)
    qm_last: float = math.nan              # mean of the computed qm_best over the last k rows
    fitness_last: float = math.nan         # mean fitness_best over the last k rows
    n_epochs: int = 0
    epochs_solved: float = math.nan        # fraction of epochs in which the goal was solved
    median_resolve: float = math.nan       # median time to re-solve after a switch (solved ones)


@dataclass
class Speedup:
    """S = median T_fixed / median T_varying, with unsolved runs censored at the run length."""

    s: float
    median_fixed: float
    median_varying: float
    censored_fixed: int
    censored_varying: int


def load_runs(path: str | Path) -> list[History]:
    """One run file, or every ``*.h5`` in a folder (sorted by name)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.h5"))
        if not files:
            raise RunFileError(f"{path}: no run files (*.h5) in this folder")
        return [load(p) for p in files]
    return [load(path)]


def epochs(goal: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges [start, stop) of the runs of equal goal values."""
    goal = np.asarray(goal)
    if goal.size == 0:
        return []
    starts = np.concatenate([[0], np.flatnonzero(np.diff(goal)) + 1])
    stops = np.concatenate([starts[1:], [goal.size]])
    return [(int(a), int(b)) for a, b in zip(starts, stops)]


def time_to_solve(h: History) -> int | None:
    """T: the first generation in which the best individual solved the goal in force."""
    hits = np.flatnonzero(h["solved"])
    return int(h["generation"][hits[0]]) if hits.size else None


def resolve_times(h: History) -> list[int | None]:
    """For every switch (epoch after the first): generations until the goal is solved again."""
    solved, generation = h["solved"], h["generation"]
    out: list[int | None] = []
    for start, stop in epochs(h["goal"])[1:]:
        hits = np.flatnonzero(solved[start:stop])
        out.append(int(generation[start + hits[0]] - generation[start]) if hits.size else None)
    return out


def tail_mean(values: np.ndarray, last: int) -> float:
    """Mean of the finite values among the last ``last`` rows (NaN if there are none)."""
    tail = np.asarray(values, dtype=np.float64)[-last:]
    tail = tail[np.isfinite(tail)]
    return float(tail.mean()) if tail.size else math.nan


def _config_value(h: History, section: str, key: str, default):
    """A value of the run's config, without failing on files whose config cannot be parsed."""
    from evosim import config as cfg

    try:
        return getattr(getattr(cfg.loads(h.config_toml), section), key)
    except Exception:  # noqa: BLE001 - a summary should not die on an odd config
        return default


def summarise(h: History, condition: str | None = None, last: int = DEFAULT_LAST) -> RunSummary:
    """The per-run summary; ``condition`` defaults to the name of the file's folder."""
    spans = epochs(h["goal"])
    solved = h["solved"]
    epoch_ok = [bool(solved[a:b].any()) for a, b in spans]
    resolved = [t for t in resolve_times(h) if t is not None]
    return RunSummary(
        path=h.path, condition=condition or h.path.parent.name,
        seed=int(h.attrs.get("seed", -1)), task=str(h.attrs.get("task", "?")),
        mode=str(h.attrs.get("mode", "evolution")),
        schedule=str(_config_value(h, "schedule", "kind", "?")),
        generations=int(h["generation"][-1]) if len(h) else 0,
        status=str(h.attrs.get("status", "?")), first_solved=h.first_solved(),
        t_solve=time_to_solve(h), q_last=tail_mean(h["q_best"], last),
        qm_last=tail_mean(h["qm_best"], last), fitness_last=tail_mean(h["fitness_best"], last),
        n_epochs=len(spans),
        epochs_solved=float(np.mean(epoch_ok)) if epoch_ok else math.nan,
        median_resolve=float(np.median(resolved)) if resolved else math.nan)


def summarise_runs(path: str | Path, last: int = DEFAULT_LAST,
                   condition: str | None = None) -> list[RunSummary]:
    """Summaries of one run file or a folder of them (condition: the folder's name)."""
    path = Path(path)
    name = condition or (path.name if path.is_dir() else path.parent.name)
    return [summarise(h, name, last) for h in load_runs(path)]


def censored_times(rows: Iterable[RunSummary]) -> tuple[np.ndarray, int]:
    """T of each run, unsolved runs censored at their last generation; and how many were."""
    rows = list(rows)
    times = np.array([r.generations if r.t_solve is None else r.t_solve for r in rows], float)
    return times, sum(r.t_solve is None for r in rows)


def speedup(fixed: Sequence[RunSummary], varying: Sequence[RunSummary]) -> Speedup:
    """Kashtan, Noor & Alon (2007) speedup of varying over fixed goals (see module docstring)."""
    t_fixed, c_fixed = censored_times(fixed)
    t_varying, c_varying = censored_times(varying)
    m_fixed = float(np.median(t_fixed)) if t_fixed.size else math.nan
    m_varying = float(np.median(t_varying)) if t_varying.size else math.nan
    if m_varying > 0:
        s = m_fixed / m_varying
    else:  # solved in the random initial population: no meaningful ratio
        s = math.inf if m_varying == 0 and m_fixed > 0 else math.nan
    return Speedup(s, m_fixed, m_varying, c_fixed, c_varying)


def _finite(values) -> np.ndarray:
    values = np.asarray(list(values), dtype=np.float64)
    return values[np.isfinite(values)]


def mann_whitney(a, b) -> float:
    """Two-sided Mann-Whitney U p-value of two samples (NaNs dropped; NaN if either is empty)."""
    a, b = _finite(a), _finite(b)
    if a.size == 0 or b.size == 0:
        return math.nan
    return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def bootstrap_ci(values, n_resamples: int = 10_000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean (NaNs dropped), reproducible for a
    seed.  (NaN, NaN) for an empty sample."""
    x = _finite(values)
    if x.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_resamples, x.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation of the finite values (sd 0 for one value)."""
    x = _finite(values)
    if x.size == 0:
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else 0.0


def trajectories(histories: Sequence[History], column: str, n_points: int = 201,
                 normalise: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(x, values[run, point]): a column of every run on a common grid, interpolated through its
    finite values (Qm is only computed now and then).  x is generations up to the shortest run, or
    with ``normalise`` the fraction 0..1 of each run (runs of different lengths, epochs vs
    generations).  Rows of runs with no finite value are NaN."""
    ends = [float(h["generation"][-1]) for h in histories if len(h)]
    end = 1.0 if normalise else (min(ends) if ends else 0.0)
    x = np.linspace(0.0, end, n_points)
    out = np.full((len(histories), n_points), np.nan)
    for i, h in enumerate(histories):
        gen = h["generation"].astype(np.float64)
        if normalise and gen.size:
            gen = gen / max(gen[-1], 1.0)
        y = np.asarray(h[column], dtype=np.float64)
        ok = np.isfinite(y)
        if ok.any():
            out[i] = np.interp(x, gen[ok], y[ok])
    return x, out
