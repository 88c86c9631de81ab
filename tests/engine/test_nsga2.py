"""NSGA-II kernels against DEAP (the outside oracle) and against the NumPy reference."""
import itertools

import numpy as np
import pytest
from deap import base, creator, tools
from scipy import stats

from evosim import counter_rng as crng
from evosim.engine import nsga2, reference

KEY = np.uint64(77)
WEIGHTS = {2: np.array([1.0, -1.0]), 3: np.array([1.0, -1.0, 1.0])}
for m, w in WEIGHTS.items():
    if not hasattr(creator, f"FitnessTest{m}"):
        creator.create(f"FitnessTest{m}", base.Fitness, weights=tuple(w))
        creator.create(f"IndividualTest{m}", list, fitness=getattr(creator, f"FitnessTest{m}"))


def _objectives(n, m, seed, ties=True):
    rng = np.random.default_rng(seed)
    if ties:  # few distinct values per objective, as rows correct and connection counts are
        return rng.integers(0, 6, size=(n, m)).astype(float)
    return rng.random((n, m))


def _deap_population(values):
    m = values.shape[1]
    population = []
    for i, row in enumerate(values):
        ind = getattr(creator, f"IndividualTest{m}")([i])
        ind.fitness.values = tuple(row)
        population.append(ind)
    return population


def _deap_ranks(values):
    """Front of every individual by DEAP's sortNondominated (the oracle)."""
    ranks = np.empty(len(values), dtype=np.int64)
    for f, front in enumerate(tools.sortNondominated(_deap_population(values), len(values))):
        for ind in front:
            ranks[ind[0]] = f
    return ranks


def _always(m):
    return np.full(m, nsga2.ALWAYS, dtype=np.uint64)


@pytest.mark.parametrize("m,seed", [(2, 0), (2, 1), (3, 2), (3, 3)])
def test_front_ranks_equal_deap_sort_nondominated(m, seed):
    values = _objectives(120, m, seed)
    dom = nsga2.dominance_matrix(values, WEIGHTS[m], _always(m), KEY, 0)
    ranks = nsga2.front_ranks(dom, 120)
    assert np.array_equal(ranks, _deap_ranks(values))
    assert np.array_equal(reference.front_ranks(dom, 120), ranks)
    assert np.array_equal(reference.dominance_matrix(values, WEIGHTS[m], _always(m), KEY, 0), dom)


@pytest.mark.parametrize("seed,ties", [(11, True), (12, False), (13, True)])
def test_sweep_ranks_equal_deap_sort_nondominated_when_every_objective_counts(seed, ties):
    values = _objectives(333, 2, seed, ties)
    ranks = nsga2.ranks(values, WEIGHTS[2], _always(2), 333, KEY, 0)
    assert np.array_equal(ranks, _deap_ranks(values))
    pairwise = nsga2.front_ranks(nsga2.dominance_matrix(values, WEIGHTS[2], _always(2), KEY, 0), 333)
    assert np.array_equal(ranks, pairwise)


@pytest.mark.parametrize("m,seed", [(2, 4), (3, 5)])
def test_crowding_distances_equal_deap(m, seed):
    values = _objectives(200, m, seed)
    ranks = nsga2.front_ranks(nsga2.dominance_matrix(values, WEIGHTS[m], _always(m), KEY, 0), 200)
    population = _deap_population(values)
    order = np.random.default_rng(seed).permutation(200)  # a front in some order, ties included
    for f in range(ranks.max() + 1):
        members = order[ranks[order] == f]
        front = [population[i] for i in members]
        tools.emo.assignCrowdingDist(front)
        expected = np.array([ind.fitness.crowding_dist for ind in front])
        assert np.array_equal(nsga2.crowding_distance(values, members), expected)
        assert np.array_equal(reference.crowding_distance(values, members), expected)


def test_selection_crowding_is_deap_on_fronts_listed_worst_first():
    values = _objectives(300, 2, 14)
    chosen, rank, crowd, front0 = nsga2.select(values, WEIGHTS[2], _always(2), 150, KEY, 0)
    listing = nsga2.sweep_order(values, WEIGHTS[2], 0)[::-1]  # the documented front order
    population = _deap_population(values)
    last = rank[chosen].max()
    for f in range(last + 1):
        front = [population[i] for i in listing[rank[listing] == f]]
        tools.emo.assignCrowdingDist(front)
        assert np.array_equal(crowd[[ind[0] for ind in front]],
                              [ind.fitness.crowding_dist for ind in front])
    assert front0 == min((rank == 0).sum(), 150)
    assert np.all(rank[chosen] <= last) and np.all(np.isin(np.flatnonzero(rank < last), chosen))


@pytest.mark.parametrize("seed,k", [(6, 50), (7, 100), (8, 37)])
def test_selection_equals_deap_sel_nsga2_up_to_crowding_ties(seed, k):
    values = _objectives(200, 2, seed, ties=False)
    chosen, _, crowd, _ = nsga2.select(values, WEIGHTS[2], _always(2), k, KEY, 0)
    deap_chosen = np.array([ind[0] for ind in tools.selNSGA2(_deap_population(values), k)])
    assert len(set(chosen)) == k
    if set(chosen) != set(deap_chosen):  # allowed only where crowding distances tie at the cut
        mine, theirs = set(chosen) - set(deap_chosen), set(deap_chosen) - set(chosen)
        assert sorted(crowd[list(mine)]) == sorted(crowd[list(theirs)])


@pytest.mark.parametrize("p", [0.0, 0.25, 0.9, 1.0])
def test_kernels_equal_numpy_reference(p):
    values = _objectives(300, 2, 9)
    thresholds = np.array([nsga2.ALWAYS, crng.threshold(p)], dtype=np.uint64)
    order = nsga2.sweep_order(values, WEIGHTS[2], 0)
    assert np.array_equal(order, reference.sweep_order(values, WEIGHTS[2], 0))
    assert np.array_equal(nsga2.ranks(values, WEIGHTS[2], thresholds, 300, KEY, 5),
                          reference.ranks(values, WEIGHTS[2], thresholds, 300, KEY, 5))
    mine = nsga2.select_sorted(values, WEIGHTS[2], thresholds, 150, KEY, 5, order)
    ref = reference.nsga2_select(values, WEIGHTS[2], thresholds, 150, KEY, 5, order)
    for a, b in zip(mine, ref):
        assert np.array_equal(a, b)


def _converged(n, seed):
    """Objectives of a converged population: most individuals share one (performance, cost)
    cell, the others are scattered over a few dozen cells around it."""
    rng = np.random.default_rng(seed)
    values = np.stack([rng.integers(8, 15, n), rng.integers(9, 20, n)], axis=1).astype(float)
    values[rng.random(n) < 0.85] = (14.0, 13.0)
    return values


@pytest.mark.parametrize("p,k", [(0.25, 500), (0.25, 910), (0.25, 276), (1.0, 500), (1.0, 950),
                                 (1.0, 18), (0.0, 500)])
def test_selection_on_a_converged_population_equals_the_numpy_reference(p, k):
    """The kernel works on runs of equal objective vectors (whole runs in one front, members of a
    stochastic run each in their own, the last front cut inside a run or filled exactly); the
    reference member by member."""
    values = _converged(1000, 16)
    thresholds = np.array([nsga2.ALWAYS, crng.threshold(p)], dtype=np.uint64)
    order = nsga2.sweep_order(values, WEIGHTS[2], 0)
    for generation in range(3):
        mine = nsga2.select_sorted(values, WEIGHTS[2], thresholds, k, KEY, generation, order)
        ref = reference.nsga2_select(values, WEIGHTS[2], thresholds, k, KEY, generation, order)
        for a, b in zip(mine, ref):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("ties", [True, False])
def test_sweep_order_merges_a_sorted_head_into_the_full_sort(ties):
    values = _objectives(400, 2, 15, ties)
    head = nsga2.sweep_order(values[:200], WEIGHTS[2], 0)
    values[:200] = values[head]  # the engine keeps its survivors sorted
    assert np.array_equal(nsga2.sweep_order(values, WEIGHTS[2], 200),
                          nsga2.sweep_order(values, WEIGHTS[2], 0))
    assert np.array_equal(nsga2.sweep_order(values, WEIGHTS[2], 0),
                          reference.sweep_order(values, WEIGHTS[2], 0))


def _exact_rank_law(values, p):
    """Probability of every rank vector when each comparison counts the cost with probability p,
    by enumerating the coins of the comparisons whose outcome depends on them."""
    n = len(values)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    law = {}
    for coins in itertools.product((False, True), repeat=len(pairs)):
        dom = np.zeros((n, n), dtype=bool)
        prob = 1.0
        for (i, j), counted in zip(pairs, coins):
            prob *= p if counted else 1 - p
            wi, wj = values[i] * WEIGHTS[2], values[j] * WEIGHTS[2]
            m = 2 if counted else 1
            better, worse = np.any(wi[:m] > wj[:m]), np.any(wi[:m] < wj[:m])
            dom[i, j], dom[j, i] = better and not worse, worse and not better
        ranks = tuple(nsga2.front_ranks(dom, n))
        law[ranks] = law.get(ranks, 0.0) + prob
    return law


def _rank_counts(ranks_of, draws):
    """How often each rank vector comes out of ``ranks_of(generation)`` over ``draws``
    generations."""
    seen = {}
    for generation in range(draws):
        ranks = tuple(ranks_of(generation))
        seen[ranks] = seen.get(ranks, 0) + 1
    return seen


def _chi_square(law, seen, draws):
    """Chi-square p-value of the observed rank vectors against a law; outcomes expected fewer
    than 5 times (and any the law does not hold) pooled into one cell."""
    outcomes = sorted(law, key=law.get, reverse=True)
    expected = np.array([law[r] * draws for r in outcomes])
    observed = np.array([seen.get(r, 0) for r in outcomes])
    big = expected >= 5
    return stats.chisquare(np.append(observed[big], draws - observed[big].sum()),
                           np.append(expected[big], draws - expected[big].sum())).pvalue


def test_stochastic_sweep_has_the_law_of_one_coin_per_comparison():
    """P&NSGA: the sweep's fronts have exactly the distribution of per-comparison coins."""
    values = np.array([[3, 5], [3, 2], [2, 4], [2, 1], [1, 3], [1, 0]], dtype=float)
    p = 0.25
    law = _exact_rank_law(values, p)
    thresholds = np.array([nsga2.ALWAYS, crng.threshold(p)], dtype=np.uint64)
    draws = 20000
    seen = _rank_counts(lambda g: nsga2.ranks(values, WEIGHTS[2], thresholds, 6, KEY, g), draws)
    assert set(seen) <= set(law)
    assert _chi_square(law, seen, draws) > 1e-3


def test_general_stochastic_dominance_for_three_objectives():
    values = _objectives(200, 3, 10)
    thresholds = np.array([nsga2.ALWAYS, crng.threshold(0.5), nsga2.ALWAYS], np.uint64)
    dom = nsga2.dominance_matrix(values, WEIGHTS[3], thresholds, KEY, 2)
    assert np.array_equal(dom, reference.dominance_matrix(values, WEIGHTS[3], thresholds, KEY, 2))
    assert np.array_equal(nsga2.ranks(values, WEIGHTS[3], thresholds, 200, KEY, 2),
                          reference.ranks(values, WEIGHTS[3], thresholds, 200, KEY, 2))
    order = nsga2.sweep_order(values, WEIGHTS[3], 0)
    mine = nsga2.select_sorted(values, WEIGHTS[3], thresholds, 90, KEY, 2, order)
    ref = reference.nsga2_select(values, WEIGHTS[3], thresholds, 90, KEY, 2, order)
    for a, b in zip(mine, ref):
        assert np.array_equal(a, b)


def test_cut_keeps_the_largest_distances_and_draws_ties_evenly():
    members = np.arange(10, 20)
    dist = np.array([np.inf, 0.5, 0.5, 0.5, 0.5, 0.2, 0.2, np.inf, 0.9, 0.5])
    counts = np.zeros(10)
    for generation in range(3000):
        keep = nsga2.cut(members, dist, 5, KEY, generation)
        assert np.array_equal(keep, reference.cut(members, dist, 5, KEY, generation))
        assert keep.sum() == 5 and keep[[0, 7, 8]].all() and not keep[[5, 6]].any()
        counts += keep
    assert np.allclose(counts[[1, 2, 3, 4, 9]] / 3000, 2 / 5, atol=0.04)


def test_binary_tournament_prefers_lower_front_then_larger_crowding():
    rank = np.array([0, 1, 1, 2])
    crowd = np.array([0.1, 5.0, 1.0, 9.0])
    winners = nsga2.binary_tournament(rank, crowd, 4000, KEY, 3)
    assert np.array_equal(winners, reference.binary_tournament(rank, crowd, 4000, KEY, 3))
    counts = np.bincount(winners, minlength=4) / 4000
    # P(win) = P(picked at least once and never against a better one): 7/16, 5/16, 3/16, 1/16
    assert np.allclose(counts, [7 / 16, 5 / 16, 3 / 16, 1 / 16], atol=0.03)


def test_duplicates_keep_the_first_copy():
    from evosim.engine import kernels
    rng = np.random.default_rng(0)
    genomes = rng.integers(0, 3, size=(400, 5)).astype(np.int16)  # plenty of equal rows
    dup = kernels.duplicates(genomes)
    assert np.array_equal(dup, reference.duplicates(genomes))
    seen = set()
    for row, is_dup in zip(map(tuple, genomes), dup):
        assert is_dup == (row in seen)
        seen.add(row)
