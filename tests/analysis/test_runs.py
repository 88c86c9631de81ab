"""Per-run measures from /epochs and the statistics, against values worked out by hand."""
import math
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy import stats

from evosim.analysis import (DEFAULT_MEASURES, MEASURES, AnalysisError, RunSummary,
                             bootstrap_ci, censored_t_solve, censored_times, cliffs_delta,
                             epoch_mean, epoch_series, get_measure, load_sources, mann_whitney,
                             mean_sd, median_resolve, resolve_rate, rolling_median,
                             solved_rate_all,
                             speedup, summarise, time_to_solve, trajectories)
from evosim.config import Config
from evosim.io import History, RunFileError, load

NAN = math.nan
PERIOD = 5


def history(solved, first_solved=None, q_solved=None, qm_solved=None, lengths=None,
            q_end=None, n_edges=None, period=PERIOD) -> History:
    """A hand-made run: per epoch whether it was solved (and how soon), its solving network's Q
    and Qm; epochs of ``period`` rows unless ``lengths`` says otherwise."""
    solved = np.asarray(solved, bool)
    n = solved.size
    lengths = np.full(n, period) if lengths is None else np.asarray(lengths)
    start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    first = np.where(solved, 0, -1) if first_solved is None else np.asarray(first_solved)
    gen = np.arange(int(lengths.sum()))
    nan = np.full(n, NAN)
    epochs = {
        "epoch": np.arange(n), "start": start, "length": lengths, "goal": np.arange(n) % 2,
        "solved": solved, "first_solved": first,
        "solved_at": np.where(solved, start + lengths - 1, -1),
        "fitness_end": np.where(solved, 1.0, 0.9),
        "q_end": nan.copy() if q_end is None else np.asarray(q_end, float),
        "q_solved": nan.copy() if q_solved is None else np.asarray(q_solved, float),
        "qm_solved": nan.copy() if qm_solved is None else np.asarray(qm_solved, float),
        "z_solved": nan.copy(), "cost_solved": nan.copy(),
        "n_edges_solved": np.zeros(n, int) if n_edges is None else np.asarray(n_edges),
    }
    columns = {"generation": gen, "goal": np.repeat(epochs["goal"], lengths),
               "solved": np.repeat(solved, lengths), "fitness_best": np.zeros(gen.size),
               "q_best": np.zeros(gen.size), "qm_best": np.full(gen.size, NAN)}
    config = Config().replace(**{"schedule.kind": "mvg", "schedule.period": period}).to_toml()
    return History(path=Path("/data/run.h5"),
                   attrs={"seed": 7, "task": "logic-gates", "mode": "evolution", "config": config,
                          "status": "complete"},
                   columns=columns, goal_names=["G1", "G2"], goal_targets=np.zeros((2, 16)),
                   snapshot_generation=np.array([0]), snapshot_genome=np.zeros((1, 25)),
                   epochs=epochs, epoch_genome=np.zeros((n, 25)))


# seven full epochs and a partial last one (one row, as generation N alone):
# epoch 0, 1 unsolved; 2 first solved (3 rows in); 3 solved at once; 4 unsolved; 5 solved 2 rows
# in; 6 unsolved; 7 (partial) solved
SOLVED = [0, 0, 1, 1, 0, 1, 0, 1]
FIRST = [-1, -1, 3, 0, -1, 2, -1, 0]
LENGTHS = [5] * 7 + [1]
Q = [NAN, NAN, 0.2, 0.4, NAN, 0.6, NAN, 0.9]
QM = [NAN, NAN, NAN, 0.3, NAN, NAN, NAN, 0.8]


def example() -> History:
    return history(SOLVED, FIRST, Q, QM, LENGTHS, q_end=[0.1 * k for k in range(8)],
                   n_edges=[0, 0, 10, 12, 0, 14, 0, 99])


def test_measures_of_a_hand_made_run():
    s = summarise(example(), condition="c", last=3)
    assert isinstance(s, RunSummary) and s.condition == "c" and s.period == PERIOD
    assert s.t_solve == 10 + 3                       # epoch 2 starts at 10, solved 3 rows in
    assert s.n_epochs == 7 and s.n_solved == 3       # the partial epoch 7 is left out
    assert s.solved_rate_all == pytest.approx(3 / 7)
    assert s.n_resolve == 4                          # epochs 3, 4, 5, 6
    assert s.resolve_rate == pytest.approx(2 / 4)    # 3 and 5 solved
    assert s.median_resolve == pytest.approx(1.0)    # median of 0 and 2
    assert (s.q_solved, s.n_q_solved) == (pytest.approx(0.4), 3)  # 0.2, 0.4, 0.6; not 0.9
    assert (s.qm_solved, s.n_qm_solved) == (pytest.approx(0.3), 1)
    assert s.q_end == pytest.approx(np.mean([0.4, 0.5, 0.6]))  # the last 3 full epochs
    assert math.isnan(s.z_solved) and not s.censored
    # unsolved epochs record no network (0 edges): they are not zeros of the mean
    assert MEASURES["n_edges_solved"](example()) == pytest.approx(12.0)


def test_a_run_that_never_solved_is_censored():
    h = history([0] * 4)
    assert time_to_solve(h) is None and censored_t_solve(h) == 19.0
    assert all(math.isnan(f(h)) for f in (resolve_rate, median_resolve))
    assert solved_rate_all(h) == 0.0
    s = summarise(h)
    assert s.censored and s.n_resolve == 0 and math.isnan(s.q_solved) and s.n_q_solved == 0


def test_first_solution_in_the_last_partial_epoch():
    h = history([0, 0, 1], lengths=[5, 5, 1])
    assert time_to_solve(h) == 10 and math.isnan(resolve_rate(h))  # no full epoch after it
    assert solved_rate_all(h) == 0.0


def test_first_solution_in_epoch_0_and_a_longer_first_period():
    """Gradient runs: the first period also holds the untrained network's row (one longer)."""
    h = history([1, 0, 1, 1, 1], first_solved=[4, -1, 1, 0, 0], lengths=[6, 5, 5, 5, 1])
    assert time_to_solve(h) == 4
    assert resolve_rate(h) == pytest.approx(2 / 3)  # epochs 1-3 (4 is partial)
    assert solved_rate_all(h) == pytest.approx(3 / 4)
    assert median_resolve(h) == pytest.approx(0.5)


def by_hand(h):
    """The summary's measures from the /epochs rows, one row at a time."""
    e, period = h.epochs, 20
    rows = [{k: e[k][i] for k in e} for i in range(len(e["epoch"]))]
    full = [r for r in rows if r["length"] >= period]
    solved = [r for r in rows if r["solved"]]
    first = solved[0]["epoch"] if solved else None
    after = [r for r in full if first is not None and r["epoch"] > first]
    resolved = [r["first_solved"] for r in after if r["solved"]]
    q = [r["q_solved"] for r in full if r["solved"]]
    qm = [r["qm_solved"] for r in full if r["solved"] and not math.isnan(r["qm_solved"])]
    return {"t_solve": solved[0]["start"] + solved[0]["first_solved"] if solved else None,
            "solved_rate_all": sum(r["solved"] for r in full) / len(full),
            "resolve_rate": sum(r["solved"] for r in after) / len(after) if after else NAN,
            "median_resolve": float(np.median(resolved)) if resolved else NAN,
            "q_solved": sum(q) / len(q) if q else NAN, "n_q_solved": len(q),
            "qm_solved": sum(qm) / len(qm) if qm else NAN, "n_qm_solved": len(qm),
            "n_epochs": len(full)}


def test_summaries_of_real_run_files_recomputed_by_hand(sweep_folder):
    histories = load_sources([sweep_folder])
    assert len(histories) == 6
    seen_resolve = seen_qm = False
    for h in histories:
        s, expected = summarise(h), by_hand(h)
        assert s.n_epochs == 15 and h.epochs["length"][-1] == 1  # 300 generations: 15 + 1 row
        for name, value in expected.items():
            got = getattr(s, name)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                assert got is None or math.isnan(got), (h.path.name, name)
            else:
                assert got == pytest.approx(value), (h.path.name, name)
        assert s.t_solve == time_to_solve(h)
        hits = np.flatnonzero(h["solved"])  # the history says the same
        assert s.t_solve == (int(h["generation"][hits[0]]) if hits.size else None)
        seen_resolve |= not math.isnan(s.resolve_rate) and s.resolve_rate < 1
        seen_qm |= s.n_qm_solved > 0
    assert seen_resolve and seen_qm  # the fixture exercises both


def test_files_without_epochs_are_refused(sweep_folder, tmp_path):
    copy = tmp_path / "old.h5"
    copy.write_bytes(next(sweep_folder.glob("*.h5")).read_bytes())
    with h5py.File(copy, "a") as f:
        del f["epochs"]
    with pytest.raises(RunFileError, match="no /epochs"):
        summarise(load(copy))


def test_measure_registry():
    assert set(DEFAULT_MEASURES) <= set(MEASURES)
    assert all(m.description and m.name == name for name, m in MEASURES.items())
    assert [n for n, m in MEASURES.items() if m.censored] == ["t_solve"]
    assert get_measure("q_solved") is MEASURES["q_solved"]
    with pytest.raises(AnalysisError, match="unknown measure 'nope'; known: t_solve"):
        get_measure("nope")
    h = example()
    assert get_measure("t_solve")(h) == 13.0 and get_measure("resolve_rate")(h) == 0.5


def summary(t, generations=300) -> RunSummary:
    return RunSummary(path=Path("x.h5"), condition="c", seed=0, task="logic-gates",
                      mode="evolution", schedule="fixed", generations=generations, period=20,
                      status="complete", t_solve=t)


def test_time_to_a_goal_counts_only_the_epochs_of_its_table():
    """Goals alternate (epoch 0: G1, 1: G2, ...): the run solves G2 in epoch 1 before it solves
    G1 in epoch 2; T of G1's table is that later time, and T of a table it never had is None."""
    h = history([0, 1, 1, 0], first_solved=[-1, 2, 3, -1])
    h.goal_targets[:] = [[1] * 8 + [0] * 8, [0] * 8 + [1] * 8]
    assert time_to_solve(h) == 7  # the first solution of any goal: G2, at 5 + 2
    assert time_to_solve(h, h.goal_targets[0]) == 13  # G1's: epoch 2 at 10 + 3
    assert time_to_solve(h, np.ones(16)) is None


def test_epochs_without_selection_are_left_out_of_the_epoch_measures():
    """vg0: epochs 1 and 3 are `none` (no selection); their chance solutions count toward T
    but not toward solved and re-solve rates or the solving networks' Q."""
    h = history([0, 1, 1, 1, 0], first_solved=[-1, 0, 2, 0, -1],
                q_solved=[NAN, 0.9, 0.4, 0.9, NAN])
    h.goal_names = ["G1", "none"]
    assert time_to_solve(h) == 5  # epoch 1's solution, found by drift
    assert solved_rate_all(h) == pytest.approx(1 / 3)  # epochs 0, 2, 4
    assert resolve_rate(h) == pytest.approx(0.0)  # after epoch 2 (the first goal-epoch solution): 4
    assert epoch_mean(h, "q_solved") == (pytest.approx(0.4), 1)


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
    assert mann_whitney(a, b) == pytest.approx(expected, rel=1e-12)
    assert mann_whitney(list(a) + [NAN, None], b) == pytest.approx(expected)  # NaNs dropped
    assert math.isnan(mann_whitney([], b))


@pytest.mark.parametrize("seed", range(5))
def test_cliffs_delta_equals_a_direct_count(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 5, rng.integers(1, 15)).astype(float)  # many ties
    b = rng.integers(0, 5, rng.integers(1, 15)).astype(float)
    greater = sum(x > y for x in a for y in b)
    less = sum(x < y for x in a for y in b)
    expected = (greater - less) / (len(a) * len(b))
    assert cliffs_delta(a, b) == pytest.approx(expected)
    assert cliffs_delta(b, a) == pytest.approx(-expected)
    u = stats.mannwhitneyu(a, b).statistic  # delta = 2 U / nm - 1, ties counted as halves
    assert cliffs_delta(a, b) == pytest.approx(2 * u / (len(a) * len(b)) - 1)
    assert cliffs_delta(list(a) + [NAN], b) == pytest.approx(expected)


def test_cliffs_delta_extremes():
    assert cliffs_delta([3, 4], [1, 2]) == 1.0 and cliffs_delta([1], [1]) == 0.0
    assert math.isnan(cliffs_delta([NAN], [1.0]))


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


def test_rolling_median_equals_a_direct_window():
    x = np.array([1.0, NAN, 3.0, 10.0, 2.0, NAN, NAN, NAN, 5.0])
    for window in (1, 3, 4):
        before = window // 2
        expected = []
        for i in range(x.size):
            part = x[max(0, i - before): i - before + window]
            part = part[np.isfinite(part)]
            expected.append(np.median(part) if part.size else NAN)
        assert np.array_equal(rolling_median(x, window), expected, equal_nan=True), window
    assert rolling_median(np.zeros(0), 5).size == 0


def test_epoch_series_bins_full_epochs_without_interpolating():
    a = history([1, 0, 1, 1], q_solved=[0.2, NAN, 0.4, 0.6], lengths=[5, 5, 5, 5])
    x, values = epoch_series([a], "q_solved", n_bins=2)  # epochs end at 4, 9 | 14, 19
    assert x.tolist() == pytest.approx([19 / 4, 3 * 19 / 4])
    assert values[0].tolist() == pytest.approx([0.2, 0.5])
    x, values = epoch_series([a], "q_solved", n_bins=4)
    assert np.isnan(values[0, 1]) and values[0, 0] == pytest.approx(0.2)


def test_trajectories_interpolate_and_normalise():
    a, b = history([0] * 1, lengths=[5]), history([0] * 1, lengths=[3])
    a.columns["qm_best"] = np.array([0.0, NAN, NAN, NAN, 1.0])
    b.columns["qm_best"] = np.array([1.0, NAN, 1.0])
    x, values = trajectories([a, b], "qm_best", n_points=3)
    assert x.tolist() == [0.0, 1.0, 2.0]  # up to the shortest run
    assert values[0].tolist() == pytest.approx([0.0, 0.25, 0.5])
    x, values = trajectories([a, b], "qm_best", n_points=3, normalise=True)
    assert values[0].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert values[1].tolist() == [1.0, 1.0, 1.0]


def test_load_sources(sweep_folder, tmp_path):
    assert len(load_sources([next(sweep_folder.glob("*.h5"))])) == 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(AnalysisError, match="no run files"):
        load_sources([tmp_path / "empty"])
