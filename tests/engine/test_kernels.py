"""The Numba kernels against their NumPy reference, and the operators' defining properties."""
import numpy as np
import pytest
from scipy import stats

from evosim import config as cfg
from evosim import counter_rng as crng
from evosim.engine import kernels, reference
from evosim.engine.loops import loops_for
from evosim.engine.params import ELITIST, TOURNAMENT
from evosim.tasks import logic
from evosim.tasks.logic import LogicTask

KEY = np.uint64(2024)


@pytest.fixture
def population():
    task = LogicTask()
    return task, task.random_genomes(101, np.uint64(5))


@pytest.mark.parametrize("generation", [0, 1, 77])
def test_rank_by_score_is_best_first_with_random_ties(generation):
    scores = np.random.default_rng(generation).integers(0, 17, 500)
    order = kernels.rank_by_score(scores, KEY, generation)
    assert np.array_equal(order, reference.rank_by_score(scores, KEY, generation))
    assert sorted(order) == list(range(500))
    assert np.all(np.diff(scores[order]) <= 0)
    tied = order[scores[order] == scores.max()]
    assert not np.all(np.diff(tied[1:]) > 0)  # ties are not left in index order...
    scores[0] = scores.max()
    assert kernels.rank_by_score(scores, KEY, generation)[0] == 0  # ...but the incumbent wins


def test_random_order_is_a_uniform_permutation_that_the_incumbent_does_not_lead():
    """vg0's ranking: the reference's, a permutation, and each slot first about 1/n of the time
    (chi-square over 4000 generations of 8 slots)."""
    firsts = np.zeros(8)
    for generation in range(4000):
        order = kernels.random_order(8, KEY, generation)
        if generation < 50:
            assert np.array_equal(order, reference.random_order(8, KEY, generation))
            assert sorted(order) == list(range(8))
        firsts[order[0]] += 1
    assert stats.chisquare(firsts).pvalue > 1e-3


@pytest.mark.parametrize("scheme,size", [(ELITIST, 2), (TOURNAMENT, 3)])
def test_select_parents(scheme, size):
    n, n_elite = 100, 30
    order = np.random.default_rng(1).permutation(n)
    parents = np.empty(n, dtype=np.int64)
    kernels.select_parents(order, n_elite, scheme, size, KEY, 9, parents)
    expected = np.empty(n, dtype=np.int64)
    reference.select_parents(order, n_elite, scheme, size, KEY, 9, expected)
    assert np.array_equal(parents, expected)
    assert np.array_equal(parents[:n_elite], order[:n_elite])
    if scheme == ELITIST:  # K&A: the middle stay, the worst become copies of the elite
        assert np.array_equal(parents[n_elite:n - n_elite], order[n_elite:n - n_elite])
        assert np.array_equal(parents[n - n_elite:], order[:n_elite])
    else:
        rank = np.argsort(order)
        assert rank[parents[n_elite:]].mean() < (n - 1) / 2  # tournaments favour the better ranked


def test_crossover_matches_reference_and_swaps_tails(population):
    _, genomes = population
    a, b = genomes.copy(), genomes.copy()
    xo = crng.threshold(0.5)
    kernels.crossover(a, 11, KEY, 3, xo)
    reference.crossover(b, 11, KEY, 3, xo)
    assert np.array_equal(a, b)
    assert np.array_equal(a[:11], genomes[:11])  # the elite is untouched
    # gene-wise, crossover only exchanges values between individuals
    for column in range(genomes.shape[1]):
        assert sorted(a[11:, column]) == sorted(genomes[11:, column])
    changed = np.flatnonzero((a != genomes).any(axis=1))
    assert 0 < len(changed) < 90
    for i in changed:  # a child keeps a prefix of its own genome
        assert a[i, 0] == genomes[i, 0]


def test_mutation_rewires_one_gene_to_a_different_valid_value(population):
    task, genomes = population
    a, b = genomes.copy(), genomes.copy()
    p = crng.threshold(0.6)
    whole = (0, task.genome_length, logic.S_MUT_DO)
    logic.mutate_rewire(a, 11, KEY, 8, p, task.gene_low, task.gene_size, *whole)
    logic.mutate_rewire_numpy(b, 11, KEY, 8, p, task.gene_low, task.gene_size, *whole)
    assert np.array_equal(a, b)
    diff = (a != genomes).sum(axis=1)
    assert diff[:11].sum() == 0 and set(diff) <= {0, 1}
    assert 0.4 < diff[11:].mean() < 0.8
    assert np.all(a >= task.gene_low) and np.all(a < task.gene_low + task.gene_size)


def test_mutation_reaches_every_other_value():
    task = LogicTask()
    genomes = np.tile(task.random_genomes(1, np.uint64(1)), (20000, 1))
    logic.mutate_rewire(genomes, 0, KEY, 0, crng.threshold(1.0), task.gene_low, task.gene_size,
                        0, task.genome_length, logic.S_MUT_DO)
    output = genomes[:, -1]
    original = task.random_genomes(1, np.uint64(1))[0, -1]
    values = set(output[output != original].tolist())
    assert values == set(range(4, 16)) - {int(original)}


def _constants(task, **settings):
    """The circuit kernels' constants for a config with these settings."""
    config = cfg.from_dict({}).replace(**settings)
    return task.kernel_constants(config.variation, config.cost)


def test_evolved_positions_move_by_their_own_rate_and_only_their_genes():
    task = LogicTask(layout="evolved")
    genomes = task.random_genomes(4000, np.uint64(3))
    constants = _constants(task, **{"variation.mutation_rate": 0.2, "cost.layout": "evolved",
                                    "variation.position_mutation_rate": 0.7})
    a, b = genomes.copy(), genomes.copy()
    logic.mutate(a, 0, KEY, 5, constants)
    logic.mutate_numpy(b, 0, KEY, 5, constants)
    assert np.array_equal(a, b)
    wiring = task.wiring_length
    rewired = (a[:, :wiring] != genomes[:, :wiring]).sum(axis=1)
    moved = (a[:, wiring:] != genomes[:, wiring:]).sum(axis=1)
    assert set(rewired) <= {0, 1} and set(moved) <= {0, 1}
    assert abs(rewired.mean() - 0.2) < 0.03 and abs(moved.mean() - 0.7) < 0.03
    assert np.all(a >= task.gene_low) and np.all(a < task.gene_low + task.gene_size)


@pytest.mark.parametrize("n_inputs", [4, 7])
def test_children_equal_to_their_parent_inherit_its_evaluation(n_inputs):
    """Seven inputs (two words of rows) take the inheritance path, four are evaluated whole:
    either way the values are those of evaluating every child, in both kernel sets."""
    task = LogicTask(n_inputs, 12)
    parents = task.random_genomes(300, np.uint64(8))
    sources = np.random.default_rng(0).integers(0, 300, 300)
    children = parents[sources]
    logic.mutate_rewire(children, 0, KEY, 1, crng.threshold(0.5), task.gene_low,
                        task.gene_size, 0, task.genome_length, logic.S_MUT_DO)
    constants = _constants(task, **{"cost.kind": "count"})
    assert constants.evaluate_copies == (n_inputs <= 6)
    target = task.pack(np.arange(task.n_rows) % 3 == 0)[0]
    parent_correct, parent_cost = np.empty(300, dtype=np.int64), np.empty(300)
    logic.evaluate(parents, target, constants, parent_correct, parent_cost)
    expected = np.empty(300, dtype=np.int64), np.empty(300)
    logic.evaluate(children, target, constants, *expected)
    for backend in ("numba", "numpy"):
        kernel_set = task.kernels(backend, constants)
        evaluate_generation = loops_for(kernel_set, backend)["evaluate_generation"]
        got = np.full(300, -1, dtype=np.int64), np.full(300, -1.0)
        evaluate_generation(children, parents, sources, target, True, constants,
                            parent_correct, parent_cost, *got)
        assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])


def test_rebind_refuses_a_name_the_code_does_not_read():
    """A callee renamed in the code must not keep running the old kernel behind a stale name."""
    from evosim.engine.rebind import rebind

    def uses_k(x):
        return K.copy_rows(x)  # noqa: F821 (bound by rebind)

    assert rebind(uses_k, K=reference).__globals__["K"] is reference
    with pytest.raises(NameError, match="does not use crossover"):
        rebind(uses_k, K=reference, crossover=reference.crossover)


@pytest.mark.parametrize("size,settings,variant", [
    ((4, 12), {}, "evaluate_card"),
    ((4, 12), {"cost.kind": "count"}, "evaluate_fused"),
    ((4, 13), {}, "evaluate"),
    ((7, 12), {"cost.kind": "length", "cost.layout": "grid"}, "evaluate"),
])
def test_the_circuit_evaluation_a_run_compiles_equals_the_general_one(size, settings, variant):
    """The logic task hands the engine one evaluation for its constants; each variant gives
    what the NumPy twin (independent code) gives."""
    task = LogicTask(*size, layout=settings.get("cost.layout", "line"))
    constants = _constants(task, **settings)
    chosen = task.kernels("numba", constants).evaluate
    assert chosen is getattr(logic, variant)
    genomes = task.random_genomes(500, np.uint64(6))
    target = task.pack(np.arange(task.n_rows) % 5 == 1)[0]
    got, expected = (np.empty(500, dtype=np.int64), np.empty(500)), (np.empty(500, dtype=np.int64),
                                                                     np.empty(500))
    chosen(genomes, target, constants, *got)
    logic.evaluate_numpy(genomes, target, constants, *expected)
    assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])
    assert got[1].any() == (settings.get("cost.kind", "none") != "none")


def test_best_of_and_record_match_their_numpy_definitions():
    from evosim.engine.params import Statistics

    rng = np.random.default_rng(4)
    correct = rng.integers(10, 17, 400)
    cost = rng.integers(0, 5, 400).astype(float)  # many ties in both
    best = kernels.best_of(correct, cost)
    assert best == reference.best_of(correct, cost)
    top = np.flatnonzero(correct == correct.max())
    assert best == top[np.argmin(cost[top])]  # most correct, then cheapest, then first
    genomes = rng.integers(0, 9, (400, 7)).astype(np.int16)
    a, b = Statistics.empty(3, 7, np.int16), Statistics.empty(3, 7, np.int16)
    for out, kernel_set in ((a, kernels), (b, reference)):
        kernel_set.record(1, best, genomes, correct, cost, out)
    for field in Statistics._fields:
        if field != "front0":
            assert np.array_equal(getattr(a, field)[1], getattr(b, field)[1]), field


@pytest.mark.parametrize("module", [kernels, reference])
def test_behavioural_diversity_is_the_mean_hamming_distance_to_the_others(module):
    """Against scipy: the mean over the others of the fraction of rows answered differently."""
    from scipy.spatial.distance import cdist

    bits = np.random.default_rng(4).integers(0, 2, (60, 256)).astype(np.uint8)
    bits[1] = bits[0]  # a copy: distance 0 between them
    words = np.packbits(bits, axis=1, bitorder="little").view(np.uint64)
    out = np.empty(60)
    module.behavioural_diversity(words, 256, out)
    distances = cdist(bits, bits, "hamming")
    assert np.allclose(out, distances.sum(axis=1) / 59, rtol=0, atol=1e-15)
    if module is reference:
        numba_out = np.empty(60)
        kernels.behavioural_diversity(words, 256, numba_out)
        assert np.array_equal(out, numba_out)
