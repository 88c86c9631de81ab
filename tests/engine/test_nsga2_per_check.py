"""P&NSGA with a fresh coin at every dominance check (``cost.coins = "per-check"``): the peeled
fronts against DEAP where nothing is random, against their exact law where coins decide, and the
kernels against the NumPy reference."""
import itertools
from functools import lru_cache

import numpy as np
import pytest
from scipy import stats

from evosim import counter_rng as crng
from evosim.engine import nsga2, reference
from evosim.engine.nsga2 import peeling
from tests.engine.test_nsga2 import (KEY, WEIGHTS, _always, _chi_square, _deap_ranks,
                                     _exact_rank_law, _objectives, _rank_counts)


def _thresholds(*ps):
    return np.array([crng.threshold(p) for p in ps], dtype=np.uint64)


@pytest.mark.parametrize("m,seed", [(2, 0), (2, 1), (3, 2), (3, 3)])
def test_peeled_ranks_equal_deap_sort_nondominated_when_every_objective_counts(m, seed):
    values = _objectives(150, m, seed)
    ranks = nsga2.peeled_ranks(values, WEIGHTS[m], _always(m), 150, KEY, 0)
    assert np.array_equal(ranks, _deap_ranks(values))


def test_a_cost_never_counted_ranks_on_performance_alone():
    values = _objectives(150, 2, 4)
    ranks = nsga2.peeled_ranks(values, WEIGHTS[2], _thresholds(1.0, 0.0), 150, KEY, 0)
    levels = np.unique(values[:, 0])[::-1]  # fronts: the performance levels, best first
    assert np.array_equal(ranks, np.searchsorted(-levels, -values[:, 0]))


@pytest.mark.parametrize("p", [0.0, 0.25, 0.7, 1.0])
def test_the_sweep_and_the_pairwise_counts_peel_alike(p):
    """Two ways to count a round's checks (a pass in sweep order, every pair's relation) draw the
    same coins, so they give the same fronts."""
    rng = np.random.default_rng(5)
    for generation in range(40):
        n = int(rng.integers(2, 80))
        values = rng.integers(0, 5, size=(n, 2)).astype(float)
        needed = int(rng.integers(1, n + 1))
        swept = peeling._swept_peel(values, WEIGHTS[2], crng.threshold(p), needed, KEY,
                                    generation, nsga2.sweep_order(values, WEIGHTS[2], 0))
        counted = peeling._counted_peel(values, WEIGHTS[2], _thresholds(1.0, p), needed, KEY,
                                        generation)
        assert np.array_equal(swept, counted)


@pytest.mark.parametrize("m,p", [(2, 0.25), (2, 1.0), (2, 0.0), (3, 0.25), (3, 1.0)])
def test_kernels_equal_numpy_reference(m, p):
    rng = np.random.default_rng(m * 10 + int(p * 4))
    thresholds = _thresholds(1.0, p, 1.0)[:m]
    for generation in range(12):
        n = int(rng.integers(2, 120))
        values = rng.integers(0, 6, size=(n, m)).astype(float)
        k = int(rng.integers(1, n + 1))
        order = nsga2.sweep_order(values, WEIGHTS[m], 0)
        assert np.array_equal(
            nsga2.peeled_ranks(values, WEIGHTS[m], thresholds, k, KEY, generation),
            reference.peeled_ranks(values, WEIGHTS[m], thresholds, k, KEY, generation))
        mine = nsga2.select_per_check(values, WEIGHTS[m], thresholds, k, KEY, generation, order)
        ref = reference.nsga2_select_per_check(values, WEIGHTS[m], thresholds, k, KEY,
                                               generation, order)
        for a, b in zip(mine, ref):
            assert np.array_equal(a, b)
        crowd = rng.integers(0, 3, size=n).astype(float)
        assert np.array_equal(
            nsga2.dominance_tournament(values, WEIGHTS[m], thresholds, crowd, 200, KEY,
                                       generation),
            reference.dominance_tournament(values, WEIGHTS[m], thresholds, crowd, 200, KEY,
                                           generation))


def _per_check_law(values, p):
    """Probability of every rank vector when fronts are peeled round by round and every check
    "does j dominate i" in every round counts the cost with a fresh coin of probability p: in a
    round each remaining i is non-dominated with the product over the others of 1 - P(j dominates
    i), independently; the fronts are enumerated as subsets of the remaining."""
    n = len(values)
    w = values * WEIGHTS[2]

    def dominates(j, i, m):  # Pareto dominance on the first m objectives
        return bool(np.all(w[j, :m] >= w[i, :m]) and np.any(w[j, :m] > w[i, :m]))

    beats = [[p * dominates(j, i, 2) + (1 - p) * dominates(j, i, 1) for i in range(n)]
             for j in range(n)]

    @lru_cache(maxsize=None)
    def law(remaining, r):
        if not remaining:
            return {(): 1.0}
        free = {i: np.prod([1 - beats[j][i] for j in remaining if j != i]) for i in remaining}
        out = {}
        for size in range(1, len(remaining) + 1):
            for front in itertools.combinations(remaining, size):
                prob = np.prod([free[i] if i in front else 1 - free[i] for i in remaining])
                if prob == 0:
                    continue
                rest = tuple(i for i in remaining if i not in front)
                for tail, q in law(rest, r + 1).items():
                    key = tuple(sorted(tail + tuple((i, r) for i in front)))
                    out[key] = out.get(key, 0.0) + prob * q
        return out

    return {tuple(rank for _, rank in ranks): q for ranks, q in law(tuple(range(n)), 0).items()}


def test_per_check_ranks_have_the_exact_law():
    """A chi-square test of the peeled fronts against their law; the per-pair law differs enough
    that the same test tells the two apart."""
    values = np.array([[3, 5], [3, 2], [2, 4], [2, 1], [1, 3], [1, 0]], dtype=float)
    p = 0.25
    law = _per_check_law(values, p)
    assert sum(law.values()) == pytest.approx(1.0)
    per_pair = _exact_rank_law(values, p)
    thresholds = _thresholds(1.0, p)
    draws = 20000
    seen = _rank_counts(lambda g: nsga2.peeled_ranks(values, WEIGHTS[2], thresholds, 6, KEY, g),
                        draws)
    assert set(seen) <= set(law)
    assert _chi_square(law, seen, draws) > 1e-3
    assert _chi_square(per_pair, seen, draws) < 1e-6


def test_mating_asks_stochastic_dominance_then_crowding_then_a_coin():
    """A is better on performance and worse on cost: it beats B when the coin leaves the cost out
    (1 - p); otherwise B's larger crowding wins. Equal individuals split evenly."""
    values = np.array([[3.0, 5.0], [2.0, 1.0]])
    p, picks = 0.25, 20000
    winners = nsga2.dominance_tournament(values, WEIGHTS[2], _thresholds(1.0, p),
                                         np.array([0.0, 1.0]), picks, KEY, 1)
    a_wins = int(np.sum(winners == 0))  # picked twice (1/4), or against B and dominating
    assert stats.binomtest(a_wins, picks, 1 / 4 + (1 - p) / 2).pvalue > 1e-3
    same = np.array([[3.0, 5.0], [3.0, 5.0]])
    winners = nsga2.dominance_tournament(same, WEIGHTS[2], _thresholds(1.0, p),
                                         np.zeros(2), picks, KEY, 2)
    assert stats.binomtest(int(np.sum(winners == 0)), picks, 0.5).pvalue > 1e-3
