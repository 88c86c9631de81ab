"""The Numba kernels against their NumPy reference, and the operators' defining properties."""
import numpy as np
import pytest

from evosim import counter_rng as crng
from evosim.engine import kernels, reference
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


@pytest.mark.parametrize("scheme,size", [(kernels.ELITIST, 2), (kernels.TOURNAMENT, 3)])
def test_select_parents(scheme, size):
    n, n_elite = 100, 30
    order = np.random.default_rng(1).permutation(n)
    parents = np.empty(n, dtype=np.int64)
    kernels.select_parents(order, n_elite, scheme, size, KEY, 9, parents)
    assert np.array_equal(parents, reference.select_parents(order, n_elite, scheme, size, KEY, 9))
    assert np.array_equal(parents[:n_elite], order[:n_elite])
    if scheme == kernels.ELITIST:  # K&A: the middle stay, the worst become copies of the elite
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
    whole = (0, task.genome_length, kernels.S_MUT_DO)
    kernels.mutate_rewire(a, 11, KEY, 8, p, task.gene_low, task.gene_size, *whole)
    reference.mutate_rewire(b, 11, KEY, 8, p, task.gene_low, task.gene_size, *whole)
    assert np.array_equal(a, b)
    diff = (a != genomes).sum(axis=1)
    assert diff[:11].sum() == 0 and set(diff) <= {0, 1}
    assert 0.4 < diff[11:].mean() < 0.8
    assert np.all(a >= task.gene_low) and np.all(a < task.gene_low + task.gene_size)


def test_mutation_reaches_every_other_value():
    task = LogicTask()
    genomes = np.tile(task.random_genomes(1, np.uint64(1)), (20000, 1))
    kernels.mutate_rewire(genomes, 0, KEY, 0, crng.threshold(1.0), task.gene_low, task.gene_size,
                          0, task.genome_length, kernels.S_MUT_DO)
    output = genomes[:, -1]
    original = task.random_genomes(1, np.uint64(1))[0, -1]
    values = set(output[output != original].tolist())
    assert values == set(range(4, 16)) - {int(original)}




def _logic_params(task, **fields):
    """The loops' ``params`` for a circuit task, every other field 0 (``cost=1``: P_COST = 1)."""
    params = np.zeros(kernels.P_MOVE + 1, dtype=np.int64)
    params[kernels.P_TASK], params[kernels.P_INPUTS] = kernels.LOGIC, task.n_inputs
    params[kernels.P_GATES], params[kernels.P_ROWS] = task.max_gates, task.n_rows
    for name, value in fields.items():
        params[getattr(kernels, f"P_{name.upper()}")] = value
    return params


def test_evolved_positions_move_by_their_own_rate_and_only_their_genes():
    task = LogicTask(layout="evolved")
    genomes = task.random_genomes(4000, np.uint64(3))
    params = _logic_params(task, mut=crng.threshold(0.2), move=crng.threshold(0.7))
    consts = task.kernel_inputs("evolved")
    a, b = genomes.copy(), genomes.copy()
    kernels.vary(a, 0, params, np.zeros(2), KEY, 5, consts)
    reference.vary(b, 0, params, np.zeros(2), KEY, 5, consts)
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
    kernels.mutate_rewire(children, 0, KEY, 1, crng.threshold(0.5), task.gene_low,
                          task.gene_size, 0, task.genome_length, kernels.S_MUT_DO)
    params = _logic_params(task, cost=1)
    consts = task.kernel_inputs("line")
    target = task.pack(np.arange(task.n_rows) % 3 == 0)[0]
    parent_correct, parent_cost = np.empty(300, dtype=np.int64), np.empty(300)
    kernels.evaluate(parents, target, consts, params, parent_correct, parent_cost)
    expected = np.empty(300, dtype=np.int64), np.empty(300)
    kernels.evaluate(children, target, consts, params, *expected)
    for kernel_set in (kernels, reference):
        got = np.full(300, -1, dtype=np.int64), np.full(300, -1.0)
        kernel_set.evaluate_changed(children, parents, sources, target, consts, params,
                                    parent_correct, parent_cost, *got)
        assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])
