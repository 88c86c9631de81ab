"""Per-run summaries and statistics against hand-computed values on synthetic histories."""
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from evosim import runner
from evosim.analysis import (RunSummary, bootstrap_ci, censored_times, epochs, load_runs,
                             mann_whitney, mean_sd, resolve_times, speedup, summarise,
                             summarise_runs, tail_mean, time_to_solve, trajectories)
from evosim.config import Config
from evosim.io import History, RunFileError

NAN = math.nan


def history(goal, solved, q=None, qm=None, generation=None, schedule="mvg") -> History:
    """A hand-made run: ``goal`` and ``solved`` per row, Q and Qm optional."""
    n = len(goal)
    columns = {
        "generation": np.arange(n) if generation is None else np.asarray(generation),
        "goal": np.asarray(goal, dtype=np.int32), "solved": np.asarray(solved, dtype=bool),
        "q_best": np.zeros(n) if q is None else np.asarray(q, float),
        "qm_best": np.full(n, NAN) if qm is None else np.asarray(qm, float),
        "fitness_best": np.where(np.asarray(solved, bool), 1.0, 0.5), "fitness_mean": np.zeros(n),
    }
    config = Config().replace(**{"schedule.kind": schedule}).to_toml()
    return History(path=Path("/data/cond/run.h5"),
                   attrs={"seed": 7, "task": "logic-gates", "mode": "evolution", "config": config,
                          "status": "complete"},
                   columns=columns, goal_names=["G1", "G2"], goal_targets=np.zeros((2, 16)),
                   snapshot_generation=np.array([0]), snapshot_genome=np.zeros((1, 25)))


# four epochs of five rows: switches at rows 5, 10, 15
GOAL = [0] * 5 + [1] * 5 + [0] * 5 + [1] * 5
SOLVED = np.zeros(20, bool)
# solved: epoch 0 at row 3; epoch 1 two rows after its switch; epoch 2 never; epoch 3 at once
SOLVED[[3, 4, 7, 15, 16]] = True


def test_epochs():
    assert epochs(np.array([0, 0, 1, 1, 1, 0])) == [(0, 2), (2, 5), (5, 6)]
    assert epochs(np.array([3])) == [(0, 1)]
    assert epochs(np.array([], dtype=int)) == []


def test_time_to_solve_and_resolve_times():
    h = history(GOAL, SOLVED)
    assert time_to_solve(h) == 3
    assert resolve_times(h) == [2, None, 0]
    assert time_to_solve(history([0] * 4, [False] * 4)) is None
    # with generation numbers that do not start at 0 the times are in generations, not rows
    shifted = history(GOAL, SOLVED, generation=np.arange(20) * 10 + 100)
    assert time_to_solve(shifted) == 130
    assert resolve_times(shifted) == [20, None, 0]


def test_tail_mean_is_nan_aware():
    assert tail_mean(np.array([9.0, NAN, 0.2, NAN, 0.4]), 4) == pytest.approx(0.3)
    assert math.isnan(tail_mean(np.array([1.0, NAN, NAN]), 2))


def test_summary_of_a_synthetic_run():
    q = np.linspace(0, 1, 20)
    qm = np.full(20, NAN)
    qm[[9, 19]] = [0.1, 0.5]
    s = summarise(history(GOAL, SOLVED, q=q, qm=qm), last=10)
    assert isinstance(s, RunSummary)
    assert (s.condition, s.seed, s.task, s.mode, s.schedule) == \
        ("cond", 7, "logic-gates", "evolution", "mvg")
    assert s.generations == 19
    assert s.first_solved == {"G1": 3, "G2": 7}
    assert s.t_solve == 3
    assert s.q_last == pytest.approx(q[10:].mean())
    assert s.qm_last == pytest.approx(0.5)  # only row 19 of qm is in the last 10
    assert s.n_epochs == 4
    assert s.epochs_solved == pytest.approx(3 / 4)
    assert s.median_resolve == pytest.approx(1.0)  # median of 2 and 0; the unsolved epoch is out
    assert summarise(history(GOAL, SOLVED), condition="other").condition == "other"


def summary(t, generations=300) -> RunSummary:
    return RunSummary(path=Path("x.h5"), condition="c", seed=0, task="logic-gates",
                      mode="evolution", schedule="fixed", generations=generations,
                      status="complete", t_solve=t)


def test_speedup_with_censoring():
    fixed = [summary(100), summary(200), summary(None, generations=300)]
    varying = [summary(10), summary(20), summary(40)]
    times, censored = censored_times(fixed)
    assert times.tolist() == [100, 200, 300] and censored == 1
    s = speedup(fixed, varying)
    assert (s.median_fixed, s.median_varying, s.s) == (200, 20, 10)
    assert (s.censored_fixed, s.censored_varying) == (1, 0)
    assert speedup([summary(5)], [summary(0)]).s == math.inf


def test_mann_whitney_equals_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 12), rng.normal(0.8, 1, 9)
    expected = stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
    assert mann_whitney(a, b) == pytest.approx(expected)
    assert mann_whitney(list(a) + [NAN], b) == pytest.approx(expected)  # NaNs dropped
    assert math.isnan(mann_whitney([], b))


def test_bootstrap_ci_contains_mean_and_is_reproducible():
    x = np.random.default_rng(1).normal(5, 2, 30)
    lo, hi = bootstrap_ci(x, n_resamples=10_000, seed=3)
    assert lo < x.mean() < hi
    assert (lo, hi) == bootstrap_ci(x, n_resamples=10_000, seed=3)
    assert (lo, hi) != bootstrap_ci(x, n_resamples=10_000, seed=4)
    lo90, hi90 = bootstrap_ci(x, level=0.90, seed=3)
    assert lo < lo90 < hi90 < hi
    assert bootstrap_ci([2.0, NAN], seed=0) == (2.0, 2.0)
    assert all(math.isnan(v) for v in bootstrap_ci([NAN]))


def test_mean_sd():
    assert mean_sd([1.0, 3.0, NAN]) == (2.0, pytest.approx(math.sqrt(2)))
    assert mean_sd([4.0]) == (4.0, 0.0)


def test_trajectories_interpolate_and_normalise():
    a = history([0] * 5, [False] * 5, qm=[0.0, NAN, NAN, NAN, 1.0])
    b = history([0] * 3, [False] * 3, qm=[1.0, NAN, 1.0])
    x, values = trajectories([a, b], "qm_best", n_points=3)
    assert x.tolist() == [0.0, 1.0, 2.0]  # up to the shortest run
    assert values[0].tolist() == pytest.approx([0.0, 0.25, 0.5])
    x, values = trajectories([a, b], "qm_best", n_points=3, normalise=True)
    assert x.tolist() == [0.0, 0.5, 1.0]
    assert values[0].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert values[1].tolist() == [1.0, 1.0, 1.0]


def test_summaries_of_real_run_files(tmp_path):
    folder = tmp_path / "mvg-runs"
    for seed in (0, 1):
        runner.run(Config().replace(**{"run.generations": 60, "run.population": 50,
                                       "run.seed": seed, "schedule.kind": "mvg",
                                       "modularity.qm_epochs": 2, "modularity.qm_samples": 2}),
                   folder / f"s{seed}.h5")
    rows = summarise_runs(folder, last=20)
    assert [r.seed for r in rows] == [0, 1]
    assert {(r.condition, r.schedule, r.mode, r.generations, r.n_epochs) for r in rows} == \
        {("mvg-runs", "mvg", "evolution", 60, 4)}
    assert all(np.isfinite(r.q_last) for r in rows)
    assert len(load_runs(folder / "s0.h5")) == 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunFileError, match="no run files"):
        load_runs(tmp_path / "empty")
