import numpy as np
import pytest
from scipy import stats

from evosim.config import Config

from evosim import counter_rng as crng
from evosim.modularity import max_q
from evosim.tasks.retina import (LEFT_OBJECTS, RIGHT_OBJECTS, RetinaTask, forward_numpy,
                                 layer_offsets, mutate_retina, mutate_retina_numpy,
                                 retina_correct_numpy, retina_costs, retina_costs_numpy)

W_START, B_START, N_START = layer_offsets()


def _set(genome, source, target, weight):
    """Set the weight from node `source` to node `target` (adjacent layers)."""
    layer = int(np.searchsorted(N_START, source, side="right") - 1)
    n_out = N_START[layer + 2] - N_START[layer + 1]
    genome[W_START[layer] + (source - N_START[layer]) * n_out + (target - N_START[layer + 1])] = weight


def _bias(genome, node, value):
    genome[B_START[0] + node - 8] = value


def modular_network(output_bias=-1):
    """Left detector on inputs 0-3, right detector on 4-7, combined at the output.

    L = MAJ(x0, x2, XNOR(x1, x3)) is exactly "the left half is a left object" (the right half's
    objects are its mirror image, R = MAJ(x7, x5, XNOR(x6, x4))). Layer 1: AND(a, c), NOR(a, c),
    AND(b, d), OR(b, d); layer 2: u = m1 or (m2 and AND) and v = m1 or (m2 and NOR); layer 3:
    u or v. Output: L + R - 1 > 0 (and), or with bias +1, L + R + 1 > 0 (or).
    """
    g = np.zeros(121, dtype=np.int16)
    for (a, b, c, d), first1, first2, first3 in (((0, 1, 2, 3), 8, 16, 20),
                                                  ((7, 6, 5, 4), 12, 18, 21)):
        # a, c are MAJ's direct inputs; b, d feed the XNOR (for the left: x0, x2 and x1, x3)
        _set(g, b, first1, 1), _set(g, d, first1, 1), _bias(g, first1, -1)           # AND(b, d)
        _set(g, b, first1 + 1, -1), _set(g, d, first1 + 1, -1), _bias(g, first1 + 1, -1)  # NOR
        _set(g, a, first1 + 2, 1), _set(g, c, first1 + 2, 1), _bias(g, first1 + 2, -1)   # m1
        _set(g, a, first1 + 3, 1), _set(g, c, first1 + 3, 1), _bias(g, first1 + 3, 1)    # m2
        for k, xnor_part in ((0, first1), (1, first1 + 1)):
            _set(g, first1 + 2, first2 + k, 2), _set(g, first1 + 3, first2 + k, 1)
            _set(g, xnor_part, first2 + k, 1), _bias(g, first2 + k, 1)
        _set(g, first2, first3, 1), _set(g, first2 + 1, first3, 1), _bias(g, first3, 1)
    _set(g, 20, 22, 1), _set(g, 21, 22, 1), _bias(g, 22, output_bias)
    return g


def _by_hand(goal):
    rows = np.arange(256)
    left = np.isin(rows & 15, LEFT_OBJECTS)
    right = np.isin(rows >> 4, RIGHT_OBJECTS)
    right_as_left = np.isin(rows >> 4, LEFT_OBJECTS)
    return {"and": left & right, "or": left | right, "XOR(L,R)": left ^ right,
            "serial-xnor": np.where(left, right, ~right),
            "serial-select": np.where(left, right, right_as_left)}[goal].astype(np.uint8)


@pytest.mark.parametrize("goal", ["and", "or", "XOR(L,R)", "serial-xnor", "serial-select"])
def test_goal_targets_equal_an_independent_computation(goal):
    assert np.array_equal(RetinaTask().goals.target(goal), _by_hand(goal))


def test_object_sets_are_mirror_images():
    mirror = {int(f"{v:04b}"[::-1], 2) for v in LEFT_OBJECTS}
    assert mirror == set(RIGHT_OBJECTS)


@pytest.mark.parametrize("activation", ["threshold", "tanh"])
def test_hand_built_modular_network_solves_and_then_or(activation):
    task = RetinaTask(activation)
    for goal, bias in (("and", -1), ("or", 1)):
        target = task.pack(task.goals.target(goal))[0]
        assert task.performance(modular_network(bias)[None], target)[0] == 1.0
    assert task.performance(modular_network(-1)[None],
                            task.pack(task.goals.target("or"))[0])[0] < 1.0


def test_modular_network_has_higher_q_than_an_entangled_one():
    task = RetinaTask()
    modular = modular_network()
    entangled = np.ones(121, dtype=np.int16)  # every connection present: nothing is separate
    q_mod = max_q(task.adjacency(modular).astype(float), directed=True)[0]
    q_ent = max_q(task.adjacency(entangled).astype(float), directed=True)[0]
    assert q_mod > q_ent + 0.2
    g = task.graph(modular)
    assert g.nodes[22]["kind"] == "output" and g.nodes[0]["kind"] == "input"
    assert g.number_of_nodes() == 23 and g.number_of_edges() == 2 * (8 + 6 + 2) + 2


def test_tanh_of_integer_sums_is_exactly_their_sign():
    h = np.arange(-40, 41)
    assert np.array_equal(np.tanh(20.0 * h), np.sign(h).astype(float))


def _plain_output(task, genome, p, activation):
    """Oracle: the output neuron's sum for pattern p, one layer at a time by hand."""
    act = task.patterns[:, p].astype(int)
    for layer in range(4):
        n_in, n_out = task.layers[layer], task.layers[layer + 1]
        w = genome[W_START[layer]: W_START[layer + 1]].reshape(n_in, n_out)
        h = act @ w + genome[B_START[layer]: B_START[layer + 1]]
        act = h if layer == 3 else (np.where(h > 0, 1, -1) if activation == 0 else np.sign(h))
    return int(act[0])


@pytest.mark.parametrize("zero_output", ["no", "wrong"])
@pytest.mark.parametrize("activation", [0, 1])
def test_numba_evaluation_equals_a_numpy_forward_pass(activation, zero_output):
    task = RetinaTask(["threshold", "tanh"][activation], zero_output=zero_output)
    genomes = task.random_genomes(200, np.uint64(5))
    target = np.random.default_rng(0).integers(0, 2, 256).astype(np.uint8)
    words = task.pack(target)[0]
    wrong = zero_output == "wrong"
    expected = retina_correct_numpy(genomes, task.patterns, task.layers, activation, wrong, words)
    assert np.array_equal(task.performance(genomes, words) * 256, expected)
    # and the NumPy pass against a plain per-pattern loop, for a few networks
    for genome, right in zip(genomes[:4], expected[:4]):
        sums = np.array([_plain_output(task, genome, p, activation) for p in range(256)])
        answers = forward_numpy(genome[None], task.patterns, task.layers, activation)[0]
        assert np.array_equal(answers, sums > 0)
        by_hand = ((sums > 0) == target) & ((sums != 0) if wrong else True)
        assert right == by_hand.sum()


def test_an_output_of_zero_is_no_or_wrong_for_either_answer():
    """A network with no weights outputs its bias, 0: "no" is right where the target says no,
    and under zero_output = wrong no pattern is right."""
    genome = np.zeros((1, 121), dtype=np.int16)
    for zero_output, right in (("no", 256 - 40), ("wrong", 0)):
        task = RetinaTask("tanh", zero_output=zero_output)
        target = np.zeros(256, dtype=np.uint8)
        target[:40] = 1
        assert task.performance(genome, task.pack(target)[0])[0] * 256 == right


@pytest.mark.parametrize("sferes", [False, True])
def test_mutation_kernels_agree_and_respect_the_value_sets(sferes):
    task = RetinaTask()
    genomes = task.random_genomes(300, np.uint64(9))
    a, b = genomes.copy(), genomes.copy()
    args = (np.uint64(7), 3, crng.threshold(0.2), crng.threshold(0.2), 2.0,
            crng.threshold(1 / 24), task.n_weights, sferes)
    mutate_retina(a, 10, *args)
    mutate_retina_numpy(b, 10, *args)
    assert np.array_equal(a, b)
    assert np.array_equal(a[:10], genomes[:10])
    weights = a[:, :task.n_weights]
    assert set(np.unique(weights)) <= {-2, -1, 0, 1, 2}
    assert a[:, task.n_weights:].min() >= -2 and a[:, task.n_weights:].max() <= 2
    changed_present = ((weights != 0) != (genomes[:, :task.n_weights] != 0)).sum(axis=1)
    assert changed_present.max() <= 2 and 0.2 < (changed_present[10:] > 0).mean() < 0.5
    steps = np.abs(weights.astype(int) - genomes[:, :task.n_weights])
    both = (weights != 0) & (genomes[:, :task.n_weights] != 0)
    assert set(np.unique(steps[both])) <= {0, 1, 2}  # -1 <-> 1 is a step over the missing 0


@pytest.mark.parametrize("backend", [mutate_retina, mutate_retina_numpy])
def test_sferes_value_mutation_clamps_weights_and_redraws_biases(backend):
    """Every weight and bias mutated (no adds or deletes): a weight at 2 stays there half the
    time (a step up is clamped) and otherwise goes to 1; every other weight moves to a
    neighbour; biases are redrawn uniformly over -2..2 whatever they were (chi-square)."""
    task = RetinaTask()
    genomes = task.random_genomes(2000, np.uint64(4))
    mutated = genomes.copy()
    backend(mutated, 0, np.uint64(8), 5, np.uint64(0), np.uint64(0), 1e9, crng.ALWAYS,
            task.n_weights, True)
    before, after = genomes[:, :task.n_weights], mutated[:, :task.n_weights]
    at_two = before == 2
    stayed = (after[at_two] == 2).mean()
    assert 0.45 < stayed < 0.55 and set(np.unique(after[at_two])) == {1, 2}
    inner = np.isin(before, [-1, 1])
    assert (after[inner] != before[inner]).all()
    assert (after[before == 0] == 0).all()
    biases = mutated[:, task.n_weights:]
    counts = np.array([(biases == v).sum() for v in range(-2, 3)])
    assert stats.chisquare(counts).pvalue > 1e-3
    was = genomes[:, task.n_weights:]
    assert ((biases == was).mean() - 0.2) ** 2 < 0.02 ** 2  # a redraw, not a step


@pytest.mark.parametrize("kind", [1, 2])
def test_cost_kernels_agree_and_count_functional_connections(kind):
    task = RetinaTask()
    xy = task.positions()
    sq = ((xy[:, None] - xy[None]) ** 2).sum(axis=2)
    genomes = np.concatenate([task.random_genomes(100, np.uint64(1)), modular_network()[None]])
    out = np.empty(len(genomes))
    retina_costs(genomes, task.layers, kind, sq, False, xy[:, 0].copy(), out)
    assert np.array_equal(out, retina_costs_numpy(genomes, task.layers, kind, sq, False,
                                                  xy[:, 0]))
    for genome, cost in zip(genomes, out):
        _, edges = task.functional_network(genome)
        expected = len(edges) if kind == 1 else sum(sq[a, b] for a, b in edges)
        assert cost == expected
    if kind == 1:  # per detector: 8 wires into layer 1, 6 into layer 2, 2 into layer 3
        assert out[-1] == 2 * (8 + 6 + 2) + 2


def _least_squares_length(task, genome):
    """Oracle: the optimal placement by scipy's least squares over the hidden neurons' x, the
    inputs and the output fixed, each connection one residual x_a - x_b (y differs by 1)."""
    from scipy.optimize import lsq_linear

    xy = task.positions()
    _, edges = task.functional_network(genome)
    free = sorted({int(v) for e in edges for v in e if 8 <= v < 22})
    col = {v: i for i, v in enumerate(free)}
    a = np.zeros((len(edges), len(free)))
    b = np.zeros(len(edges))
    for row, (u, v) in enumerate(edges):
        for node, sign in ((u, 1.0), (v, -1.0)):
            if node in col:
                a[row, col[node]] += sign
            else:
                b[row] -= sign * xy[node, 0]
    dx = a @ lsq_linear(a, b, tol=1e-12).x - b if free else -b
    return float((dx ** 2).sum() + len(edges))


def test_optimal_placement_is_the_least_squares_one_and_never_above_the_fixed_layout():
    layered, optimal = RetinaTask(), RetinaTask(layout="optimal")
    config = Config().replace(**{"task.name": "retina", "cost.kind": "length",
                                 "cost.layout": "optimal"})
    constants = optimal.kernel_constants(config.variation, config.cost)
    fixed_constants = layered.kernel_constants(config.variation,
                                               config.replace(**{"cost.layout": "layered"}).cost)
    genomes = np.concatenate([optimal.random_genomes(60, np.uint64(2)), modular_network()[None]])
    cost, fixed = np.empty(len(genomes)), np.empty(len(genomes))
    correct = np.empty(len(genomes), dtype=np.int64)
    target = optimal.pack(optimal.goals.target("and"))[0]
    optimal.kernels("numba", constants).evaluate(genomes, target, constants, correct, cost)
    layered.kernels("numba", fixed_constants).evaluate(genomes, target, fixed_constants, correct,
                                                       fixed)
    numpy_cost = np.empty(len(genomes))
    optimal.kernels("numpy", constants).evaluate(genomes, target, constants, correct, numpy_cost)
    assert np.array_equal(cost, numpy_cost)  # bit for bit
    for genome, c in zip(genomes, cost):
        assert c == pytest.approx(_least_squares_length(optimal, genome), abs=1e-9)
    assert (cost <= fixed + 1e-12).all() and (cost < fixed - 1e-9).any()
    # the drawing places the hidden neurons where the cost was measured
    xy = optimal.positions(genomes[0])
    _, edges = optimal.functional_network(genomes[0])
    assert sum(((xy[a] - xy[b]) ** 2).sum() for a, b in edges) == pytest.approx(cost[0])


def test_the_behaviour_kernels_pack_the_answers():
    task = RetinaTask("tanh")
    genomes = task.random_genomes(50, np.uint64(6))
    config = Config().replace(**{"task.name": "retina"})
    constants = task.kernel_constants(config.variation, config.cost)
    fast, slow = np.empty((50, 4), dtype=np.uint64), np.empty((50, 4), dtype=np.uint64)
    task.kernels("numba", constants).behave(genomes, constants, fast)
    task.kernels("numpy", constants).behave(genomes, constants, slow)
    assert np.array_equal(fast, slow)
    for genome, words in zip(genomes[:3], fast):
        answers = np.unpackbits(words.view(np.uint8), bitorder="little")
        assert np.array_equal(answers, task.outputs(genome))
