"""Per-run measures, read from each run's ``/epochs`` table, and the Kashtan-Noor-Alon speedup.

Everything here reads only what :func:`evosim.io.load` returns (no task code, no matplotlib), so it
works on runs that are still being written and on gradient-trained runs (same schema; a
"generation" is then a training epoch and a goal epoch a training period).

Why ``/epochs`` and not the history's tail: modularity means something only on networks that do
the task.  The best of the generation after a switch is usually an unsolved near-miss of the new
goal, so an average of ``q_best`` over the last rows mixes solved circuits with broken ones in a
proportion set by how often the run re-solves.  ``/epochs`` holds, per goal epoch, whether its goal
was solved, how soon, and the measures of its *last solving best*.

Conventions (the reports quote them):

* *Full* epochs: ``length >= schedule.period`` of the run's config (in gradient mode the first
  period also holds the untrained network's row, so it is one longer).  The run's last epoch is
  usually a partial one (generation 20000 alone) and is left out of every rate and mean.
* Epoch 0 is kept: a network that solves the goal in epoch 0 is a solving network like any
  other.  The re-solve measures leave it out by their definition (they start after the run's
  first solved epoch, whose solution came from a random population, not from a switch).
* T (``t_solve``) = the first generation whose best solved the goal in force, from all epochs
  (a time, not a rate); None if never.  Every other measure is over the *goal epochs*: a vg0
  run's epochs without selection are left out (``goal_epochs``).  In comparisons, runs that
  never solved are *censored at their last generation* (T taken to be the run length) and
  flagged: that keeps them in ranks and medians, as the larger times they are at least.
* Speedup ``S = median T_fixed / median T_varying`` (Kashtan, Noor & Alon 2007), T_varying
  counting only solutions of the fixed goal's truth table (a varying run that solves its other
  goals first has not yet done what the fixed run does), with the same censoring: censoring
  fixed-goal runs makes S a lower bound, censoring varying-goal runs an upper bound.
  :func:`speedup` returns the censored counts so reports can say how much this mattered.
"""
from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from evosim.goals import NO_SELECTION
from evosim.io import History, RunFileError

__all__ = ["AnalysisError", "RunSummary", "Speedup", "Measure", "MEASURES", "DEFAULT_MEASURES",
           "DEFAULT_LAST_EPOCHS", "get_measure", "period_of", "full_epochs",
           "goal_epochs",
           "time_to_solve", "censored_t_solve", "solved_rate_all", "resolve_rate",
           "median_resolve", "epoch_mean", "q_end_mean", "summarise", "censored_times",
           "speedup", "trajectories", "epoch_series"]

DEFAULT_LAST_EPOCHS = 50  # q_end: the last 50 full epochs (1000 generations at period 20)


class AnalysisError(ValueError):
    """An analysis that cannot be done as asked (unknown measure or key, no runs); for users."""


# ------------------------------------------------------------------------------ epoch measures

@functools.lru_cache(maxsize=1024)
def _period(config_toml: str) -> int:
    from evosim.config import ScheduleSection

    try:
        return int(tomllib.loads(config_toml)["schedule"]["period"])
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError):
        return ScheduleSection().period


def period_of(h: History) -> int:
    """The run's ``schedule.period`` (generations, or training epochs, per goal epoch)."""
    return _period(h.config_toml)


def _epochs(h: History) -> dict[str, np.ndarray]:
    if "solved" not in h.epochs:
        raise RunFileError(f"{h.path}: no /epochs table (a run file of schema 1, written by an "
                           "older evosim); run it again with this one")
    return h.epochs


def goal_epochs(h: History) -> dict[str, np.ndarray]:
    """The /epochs columns of the epochs with a goal to solve: all but a vg0 run's epochs
    without selection (``none``: what survives them is chance, not a solution)."""
    e = _epochs(h)
    if NO_SELECTION not in h.goal_names:
        return e
    keep = e["goal"] != h.goal_names.index(NO_SELECTION)
    return {name: column[keep] for name, column in e.items()}


def full_epochs(h: History) -> dict[str, np.ndarray]:
    """The goal epochs (``goal_epochs``) that are full (``length >= schedule.period``)."""
    e = goal_epochs(h)
    keep = e["length"] >= period_of(h)
    return {name: column[keep] for name, column in e.items()}


def time_to_solve(h: History, table: np.ndarray | None = None) -> int | None:
    """T: the first generation whose best solved the goal in force (any epoch), or with
    ``table`` the first whose best solved that truth table (epochs under it: a vg0 run's epochs
    without selection are scored on its goal's table); None if never."""
    e = _epochs(h)
    solved = e["solved"]
    if table is not None:
        under = np.array([np.array_equal(t, table) for t in h.goal_targets], dtype=bool)
        solved = solved & under[e["goal"]] if under.size else solved & False
    hits = np.flatnonzero(solved)
    return int(e["start"][hits[0]] + e["first_solved"][hits[0]]) if hits.size else None


def _last_generation(h: History) -> int:
    return int(h["generation"][-1]) if len(h) else 0


def censored_t_solve(h: History) -> float:
    """T, or the run's last generation if it never solved (censored; see the module notes)."""
    t = time_to_solve(h)
    return float(_last_generation(h) if t is None else t)


def solved_rate_all(h: History) -> float:
    """Fraction of all full epochs whose goal was solved (epoch 0 included)."""
    solved = full_epochs(h)["solved"]
    return float(solved.mean()) if solved.size else math.nan


def _after_first_solution(h: History) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """(full epochs, mask of those after the run's first solved epoch); the mask is None if the
    run never solved.  The first solved epoch is looked for among all goal epochs, partial ones
    too."""
    e, f = goal_epochs(h), full_epochs(h)
    solved = np.flatnonzero(e["solved"])
    return f, (f["epoch"] > e["epoch"][solved[0]] if solved.size else None)


def resolve_rate(h: History) -> float:
    """Fraction of the full epochs after the run's first solved epoch that were solved; NaN if
    the run never solved, or no full epoch follows its first solution."""
    f, after = _after_first_solution(h)
    return float(f["solved"][after].mean()) if after is not None and after.any() else math.nan


def median_resolve(h: History) -> float:
    """Median generations from an epoch's start to its first solution, over the solved full
    epochs after the run's first solved epoch (NaN if there are none)."""
    f, after = _after_first_solution(h)
    pick = f["solved"] & after if after is not None else np.zeros(0, bool)
    return float(np.median(f["first_solved"][pick])) if pick.any() else math.nan


def epoch_mean(h: History, column: str) -> tuple[float, int]:
    """(mean, count) of a solving-network column of /epochs over the solved full epochs where it
    is finite (Qm and z are computed in the sampled epochs only: ``Schedule.sampled_epochs``).

    Returns
    -------
    mean : float
        Mean of the column's finite values over the solved full epochs; NaN if there are none.
    count : int
        How many values the mean is over.
    """
    f = full_epochs(h)
    values = f[column][f["solved"]].astype(np.float64)
    values = values[np.isfinite(values)]
    return (float(values.mean()) if values.size else math.nan), int(values.size)


def q_end_mean(h: History, last: int = DEFAULT_LAST_EPOCHS) -> float:
    """Mean max Q of the best at the end of each of the last ``last`` full epochs, solved or not
    (what the history's tail measured; kept for comparison with ``q_solved``)."""
    values = full_epochs(h)["q_end"][-last:] if last > 0 else np.zeros(0)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def performance_label(h: History) -> str:
    """What ``fitness_best`` is in this run: an evolved network's fitness, a trained MLP's
    training accuracy (for a regression: the fraction of outputs within 0.5 of the target), or a
    gradient-trained genome model's discretised network's performance."""
    if h.attrs.get("mode") != "gradient":
        return "fitness"
    if is_regression(h):
        return "training accuracy (|error| < 0.5)"
    return "training accuracy" if h.trained_weights else "discretised network's performance"


def is_regression(h: History) -> bool:
    """A network trained on a regression (digit pairs: a x + b y): its goal is a loss to lower,
    not a truth table to solve, so "solved" does not describe it."""
    from evosim.tasks import is_regression as regression_task

    return regression_task(str(h.attrs.get("task", "")))


# ------------------------------------------------------------------------------------ registry

@dataclass(frozen=True)
class Measure:
    """A per-run number the comparisons can be asked for by name."""

    name: str
    description: str
    function: Callable[[History], float]
    censored: bool = False  # runs that never solved get a censored value (not NaN): flag them

    def __call__(self, h: History) -> float:
        return float(self.function(h))


def _column_mean(column: str) -> Callable[[History], float]:
    return lambda h: epoch_mean(h, column)[0]


MEASURES: dict[str, Measure] = {m.name: m for m in [
    Measure("t_solve", "first generation whose best solved the goal in force; runs that never "
                       "solved count at their last generation (censored)", censored_t_solve,
            censored=True),
    Measure("solved_rate_all", "fraction of all full epochs solved (epoch 0 included)",
            solved_rate_all),
    Measure("resolve_rate", "fraction of the full epochs after the first solved epoch that were "
                            "solved", resolve_rate),
    Measure("median_resolve", "median generations from an epoch's start to its first solution, "
                              "over the solved epochs after the first solved one",
            median_resolve),
    Measure("q_solved", "mean max Q of the epochs' last solving networks (as recorded: exact "
                        "where q_solved_exact)",
            _column_mean("q_solved")),
    Measure("qm_solved", "mean Qm of the epochs' last solving networks, where computed",
            _column_mean("qm_solved")),
    Measure("z_solved", "mean z = (Q - Q_rand) / sd of the epochs' last solving networks, where "
                        "computed", _column_mean("z_solved")),
    Measure("q_end", f"mean max Q of the best at the end of the last {DEFAULT_LAST_EPOCHS} full "
                     "epochs, solved or not", q_end_mean),
    Measure("cost_solved", "mean connection cost of the epochs' last solving networks",
            _column_mean("cost_solved")),
    Measure("n_edges_solved", "mean connections of the epochs' last solving networks",
            _column_mean("n_edges_solved")),
    Measure("n_nodes_solved", "mean nodes (inputs and units) of the epochs' last solving "
                              "networks' functional networks", _column_mean("n_nodes_solved")),
    Measure("one_sided_solved", "mean fraction of the solving networks' units that depend on "
                                "one input half only (evosim.dependence), where computed",
            _column_mean("one_sided_solved")),
    Measure("q_dependency_solved", "mean max Q of the solving networks' unit-input dependency "
                                   "graphs (evosim.dependence), where computed",
            _column_mean("q_dependency_solved")),
]}

DEFAULT_MEASURES = ("q_solved", "qm_solved", "z_solved", "resolve_rate", "median_resolve",
                    "t_solve")


def get_measure(name: str) -> Measure:
    """The measure of that name; AnalysisError listing the known ones otherwise."""
    try:
        return MEASURES[name]
    except KeyError:
        raise AnalysisError(f"unknown measure {name!r}; known: {', '.join(MEASURES)}") from None


# -------------------------------------------------------------------------------- the summary

@dataclass
class RunSummary:
    """One row of the per-run table (see the module notes for the definitions)."""

    path: Path
    condition: str
    seed: int
    task: str
    mode: str
    schedule: str
    generations: int                       # last generation recorded
    period: int
    status: str
    first_solved: dict[str, int | None] = field(default_factory=dict)  # per goal, from /history
    t_solve: int | None = None
    n_epochs: int = 0                      # full epochs
    n_solved: int = 0                      # of them solved
    solved_rate_all: float = math.nan
    n_resolve: int = 0                     # full epochs after the first solved epoch
    resolve_rate: float = math.nan
    median_resolve: float = math.nan
    q_solved: float = math.nan
    n_q_solved: int = 0
    qm_solved: float = math.nan
    n_qm_solved: int = 0
    z_solved: float = math.nan
    q_end: float = math.nan                # over the last ``last`` full epochs
    cost_solved: float = math.nan

    @property
    def censored(self) -> bool:
        """The run never solved: its T is censored, its solved-network measures are NaN."""
        return self.t_solve is None


def _schedule_kind(h: History) -> str:
    try:
        return str(tomllib.loads(h.config_toml)["schedule"]["kind"])
    except (tomllib.TOMLDecodeError, KeyError, TypeError):
        return "?"


def summarise(h: History, condition: str = "", last: int = DEFAULT_LAST_EPOCHS) -> RunSummary:
    """The per-run summary of one run file's ``/epochs``."""
    f, after = _after_first_solution(h)
    (q, n_q), (qm, n_qm) = epoch_mean(h, "q_solved"), epoch_mean(h, "qm_solved")
    return RunSummary(
        path=h.path, condition=condition, seed=int(h.attrs.get("seed", -1)),
        task=str(h.attrs.get("task", "?")), mode=str(h.attrs.get("mode", "evolution")),
        schedule=_schedule_kind(h), generations=_last_generation(h), period=period_of(h),
        status=str(h.attrs.get("status", "?")), first_solved=h.first_solved(),
        t_solve=time_to_solve(h), n_epochs=int(f["solved"].size),
        n_solved=int(f["solved"].sum()), solved_rate_all=solved_rate_all(h),
        n_resolve=int(after.sum()) if after is not None else 0, resolve_rate=resolve_rate(h),
        median_resolve=median_resolve(h), q_solved=q, n_q_solved=n_q, qm_solved=qm,
        n_qm_solved=n_qm, z_solved=epoch_mean(h, "z_solved")[0], q_end=q_end_mean(h, last),
        cost_solved=epoch_mean(h, "cost_solved")[0])


# ------------------------------------------------------------------------------------ speedup

@dataclass
class Speedup:
    """S = median T_fixed / median T_varying, with unsolved runs censored at the run length."""

    s: float
    median_fixed: float
    median_varying: float
    censored_fixed: int
    censored_varying: int


def censored_times(rows: Iterable[RunSummary]) -> tuple[np.ndarray, int]:
    """T of each run, unsolved runs censored at their last generation; and how many were.

    Returns
    -------
    times : numpy.ndarray
        float64[n_runs]: each run's ``t_solve``, or its ``generations`` if it never solved.
    n_censored : int
        How many runs never solved (and so were censored).
    """
    rows = list(rows)
    times = np.array([r.generations if r.t_solve is None else r.t_solve for r in rows], float)
    return times, sum(r.t_solve is None for r in rows)


def speedup(fixed: Sequence[RunSummary], varying: Sequence[RunSummary]) -> Speedup:
    """Kashtan, Noor & Alon (2007) speedup of varying over fixed goals (see module docstring):
    give ``varying`` the T of the fixed goal's table (:func:`time_to_solve`)."""
    t_fixed, c_fixed = censored_times(fixed)
    t_varying, c_varying = censored_times(varying)
    m_fixed = float(np.median(t_fixed)) if t_fixed.size else math.nan
    m_varying = float(np.median(t_varying)) if t_varying.size else math.nan
    if m_varying > 0:
        s = m_fixed / m_varying
    else:  # solved in the random initial population: no meaningful ratio
        s = math.inf if m_varying == 0 and m_fixed > 0 else math.nan
    return Speedup(s, m_fixed, m_varying, c_fixed, c_varying)


# ------------------------------------------------------------------------------- trajectories

def trajectories(histories: Sequence[History], column: str, n_points: int = 201,
                 normalise: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(x, values[run, point]): a /history column of every run on a common grid, interpolated
    through its finite values.  x is generations up to the shortest run, or with ``normalise``
    the fraction 0..1 of each run (runs of different lengths, epochs vs generations).  Rows of
    runs with no finite value are NaN.

    Returns
    -------
    x : numpy.ndarray
        float64[n_points]: the common grid, generations or (``normalise``) fractions 0..1.
    values : numpy.ndarray
        float64[n_runs, n_points]: each run's column interpolated onto ``x``.
    """
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


def epoch_series(histories: Sequence[History], column: str, n_bins: int = 100,
                 normalise: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(x, values[run, bin]): a /epochs column of every run, averaged per run over the full
    epochs that end in each of ``n_bins`` equal stretches of generations (up to the shortest run;
    with ``normalise`` of the fraction 0..1 of each run).  x is the stretches' centres; a bin
    without a finite value is NaN (e.g. ``q_solved`` where nothing was solved): no interpolation
    across epochs that have no solving network.

    Returns
    -------
    x : numpy.ndarray
        float64[n_bins]: the centre of each bin, in generations or (``normalise``) fractions.
    values : numpy.ndarray
        float64[n_runs, n_bins]: each run's mean of the column over its epochs ending in each bin.
    """
    ends = [float(_last_generation(h)) for h in histories]
    end = 1.0 if normalise else (min(ends) if ends else 0.0)
    edges = np.linspace(0.0, max(end, 1e-9), n_bins + 1)
    out = np.full((len(histories), n_bins), np.nan)
    for i, h in enumerate(histories):
        f = full_epochs(h)
        at = (f["start"] + f["length"] - 1).astype(np.float64)
        if normalise:
            at = at / max(float(_last_generation(h)), 1.0)
        y = f[column].astype(np.float64)
        ok = np.isfinite(y) & (at <= end)
        index = np.clip(np.searchsorted(edges, at[ok], side="right") - 1, 0, n_bins - 1)
        counts = np.bincount(index, minlength=n_bins)
        sums = np.bincount(index, weights=y[ok], minlength=n_bins)
        out[i, counts > 0] = sums[counts > 0] / counts[counts > 0]
    return (edges[:-1] + edges[1:]) / 2, out
