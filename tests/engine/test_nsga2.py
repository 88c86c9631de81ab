"""NSGA-II kernels against DEAP (the outside oracle) and against the NumPy reference."""
import numpy as np
import pytest
from deap import base, creator, tools

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


def _always(m):
    return np.full(m, nsga2.ALWAYS, dtype=np.uint64)


@pytest.mark.parametrize("m,seed", [(2, 0), (2, 1), (3, 2), (3, 3)])
def test_front_ranks_equal_deap_sort_nondominated(m, seed):
    values = _objectives(120, m, seed)
    dom = nsga2.dominance_matrix(values, WEIGHTS[m], _always(m), KEY, 0)
    ranks = nsga2.front_ranks(dom, 120)
    fronts = tools.sortNondominated(_deap_population(values), 120)
    expected = np.empty(120, dtype=np.int64)
    for f, front in enumerate(fronts):
        for ind in front:
            expected[ind[0]] = f
    assert np.array_equal(ranks, expected)
    assert np.array_equal(reference.front_ranks(dom, 120), ranks)
    assert np.array_equal(reference.dominance_matrix(values, WEIGHTS[m], _always(m), KEY, 0), dom)


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


@pytest.mark.parametrize("seed,k", [(6, 50), (7, 100), (8, 37)])
def test_selection_equals_deap_sel_nsga2_up_to_crowding_ties(seed, k):
    values = _objectives(200, 2, seed, ties=False)
    tie_order = np.arange(200)
    chosen, _, crowd, _ = nsga2.select(values, WEIGHTS[2], _always(2), k, KEY, 0, tie_order)
    deap_chosen = np.array([ind[0] for ind in tools.selNSGA2(_deap_population(values), k)])
    assert len(set(chosen)) == k
    if set(chosen) != set(deap_chosen):  # allowed only where crowding distances tie at the cut
        mine, theirs = set(chosen) - set(deap_chosen), set(deap_chosen) - set(chosen)
        assert sorted(crowd[list(mine)]) == sorted(crowd[list(theirs)])
    ref = reference.nsga2_select(values, WEIGHTS[2], _always(2), k, KEY, 0, tie_order)
    assert np.array_equal(ref[0], chosen)


@pytest.mark.parametrize("p", [0.0, 0.25, 0.9])
def test_stochastic_dominance_has_probability_p_and_backends_agree(p):
    """Two objectives (the bitset sort): cost counts in a comparison with probability p."""
    values = _objectives(300, 2, 9)
    thresholds = np.array([nsga2.ALWAYS, nsga2.coin_threshold(p)], dtype=np.uint64)
    order, dom_sorted = reference.pareto2_dominance(values * WEIGHTS[2], thresholds[1], KEY, 5)
    dom = np.zeros_like(dom_sorted)
    dom[np.ix_(order, order)] = dom_sorted.T  # dom[i, j]: i dominates j, in index order
    perf, cost = values[:, 0], values[:, 1]
    # equal performance, lower cost: dominates iff the cost is counted
    i, j = np.nonzero((perf[:, None] == perf[None, :]) & (cost[:, None] < cost[None, :]))
    assert abs(dom[i, j].mean() - p) < 0.02
    # higher performance, higher cost: dominates iff the cost is not counted
    i, j = np.nonzero((perf[:, None] > perf[None, :]) & (cost[:, None] > cost[None, :]))
    assert abs(dom[i, j].mean() - (1 - p)) < 0.02
    # higher performance, lower cost: dominates whatever the coin
    i, j = np.nonzero((perf[:, None] > perf[None, :]) & (cost[:, None] < cost[None, :]))
    assert dom[i, j].all()
    ranks = nsga2.ranks(values, WEIGHTS[2], thresholds, 300, KEY, 5)
    assert np.array_equal(ranks, reference.ranks(values, WEIGHTS[2], thresholds, 300, KEY, 5))
    assert np.array_equal(ranks, reference.front_ranks(dom, 300))
    tie_order = np.random.default_rng(1).permutation(300)
    mine = nsga2.select(values, WEIGHTS[2], thresholds, 150, KEY, 5, tie_order)
    ref = reference.nsga2_select(values, WEIGHTS[2], thresholds, 150, KEY, 5, tie_order)
    for a, b in zip(mine, ref):
        assert np.array_equal(a, b)


def test_general_stochastic_dominance_for_three_objectives():
    values = _objectives(200, 3, 10)
    thresholds = np.array([nsga2.ALWAYS, nsga2.coin_threshold(0.5), nsga2.ALWAYS], np.uint64)
    dom = nsga2.dominance_matrix(values, WEIGHTS[3], thresholds, KEY, 2)
    assert np.array_equal(dom, reference.dominance_matrix(values, WEIGHTS[3], thresholds, KEY, 2))
    assert np.array_equal(nsga2.ranks(values, WEIGHTS[3], thresholds, 200, KEY, 2),
                          reference.ranks(values, WEIGHTS[3], thresholds, 200, KEY, 2))


def test_bitset_sort_equals_pairwise_sort_when_every_objective_counts():
    for seed, ties in ((11, True), (12, False)):
        values = _objectives(333, 2, seed, ties)
        pairwise = nsga2.front_ranks(
            nsga2.dominance_matrix(values, WEIGHTS[2], _always(2), KEY, 0), 333)
        assert np.array_equal(nsga2.ranks(values, WEIGHTS[2], _always(2), 333, KEY, 0), pairwise)


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
