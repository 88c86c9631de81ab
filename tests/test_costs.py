import numpy as np
import pytest

from evosim import config as cfg
from evosim import costs
from evosim.tasks.logic import LogicTask, count_correct, count_correct_numpy
from tasks.test_logic import MODULAR_G1_GENOME


def _cost_from_graph(task, genome, kind, layout):
    """Oracle: the cost from the functional network's edge list."""
    _, edges = task.functional_network(genome)
    if kind == "count":
        return float(len(edges))
    xy = costs.positions(layout, task.n_inputs, task.max_gates, genome)
    return float(sum(((xy[a] - xy[b]) ** 2).sum() for a, b in edges))


_VARIATION = cfg.from_dict({}).variation


def _cost(layout):
    return cfg.from_dict({}).replace(**{"cost.layout": layout}).cost


def _kernel(genomes, kind, layout, task=None):
    task = task or LogicTask(layout=layout)
    sq = task.kernel_constants(_VARIATION, _cost(layout)).sq_dist
    kind_id = costs.kernel_kind(kind, layout)
    out = np.empty(len(genomes))
    n_in, n_gates = task.n_inputs, task.max_gates
    costs.connection_costs(genomes, n_in, n_gates, kind_id, sq, out)
    numpy = costs.connection_costs_numpy(genomes, n_in, n_gates, kind_id, sq)
    assert np.array_equal(out, numpy)
    if kind != "none":  # the fused forward pass of the hot loop gives the same costs and scores
        target = task.pack(np.arange(task.n_rows) % 3 == 0)[0]
        correct, fused = np.empty(len(genomes), dtype=np.int64), np.empty(len(genomes))
        costs.correct_and_costs(genomes, n_in, n_gates, task.input_words, target, task.row_mask,
                                kind_id, sq, correct, fused)
        expected = np.empty(len(genomes), dtype=np.int64)
        count_correct(genomes, n_in, n_gates, task.input_words, target, task.row_mask, expected)
        assert np.array_equal(fused, out) and np.array_equal(correct, expected)
        assert np.array_equal(correct, count_correct_numpy(genomes, n_in, n_gates,
                                                           task.input_words, target,
                                                           task.row_mask))
    return out


def test_hand_computed_costs_of_the_modular_circuit():
    genome = MODULAR_G1_GENOME[None]
    assert _kernel(genome, "count", "line")[0] == 19  # 8 + 8 wires in the XORs, 2 + 1 after
    # line: squared address differences. XOR 1: (0,4),(1,4),(0,5),(4,5),(1,6),(4,6),(5,7),(6,7)
    xor1 = 16 + 9 + 25 + 1 + 25 + 4 + 4 + 1
    # XOR 2: (2,8),(3,8),(2,9),(8,9),(3,10),(8,10),(9,11),(10,11): its inputs lie further away
    xor2 = 36 + 25 + 49 + 1 + 49 + 4 + 4 + 1
    tail = (12 - 7) ** 2 + (12 - 11) ** 2 + (13 - 12) ** 2
    assert _kernel(genome, "length", "line")[0] == xor1 + xor2 + tail
    # grid: x at (0,0) .. w at (3,0); gate g at (g % 4, 1 + g // 4); gate 0 = (0,1), gate 3 = (3,1)
    xy = costs.positions("grid", 4, 12)
    assert xy[4].tolist() == [0, 1] and xy[7].tolist() == [3, 1] and xy[13].tolist() == [1, 3]
    assert _kernel(genome, "length", "grid")[0] == _cost_from_graph(LogicTask(), genome[0],
                                                                    "length", "grid")
    assert _kernel(genome, "none", "line")[0] == 0


def test_hand_computed_costs_with_evolved_positions():
    """The modular circuit with every gate placed by its genes: inputs at (0..3, 0)."""
    task = LogicTask(layout="evolved")
    xy = np.zeros((12, 2), dtype=np.int16)
    xy[:, 0] = [0, 0, 1, 1, 2, 2, 3, 3, 1, 2, 3, 0]  # gate g at (x, y)
    xy[:, 1] = [1, 2, 1, 2, 1, 2, 1, 2, 3, 3, 3, 3]
    genome = np.concatenate([MODULAR_G1_GENOME, xy.ravel()])[None]
    assert genome.shape[1] == task.genome_length == 25 + 24
    assert np.all(genome >= task.gene_low) and np.all(genome < task.gene_low + task.gene_size)

    def sq(u, v):  # addresses: inputs 0..3, gate g = 4 + g
        pu = (u, 0) if u < 4 else tuple(xy[u - 4])
        pv = (v, 0) if v < 4 else tuple(xy[v - 4])
        return (pu[0] - pv[0]) ** 2 + (pu[1] - pv[1]) ** 2

    _, edges = task.functional_network(genome[0])
    assert len(edges) == 19
    # e.g. the first wire, input x (0, 0) to gate 0 at (0, 1): length 1
    assert sq(0, 4) == 1 and sq(1, 4) == 2
    assert _kernel(genome, "length", "evolved")[0] == sum(sq(a, b) for a, b in edges)
    # by hand: each XOR is 3 + 5 + 2 + 2; then gate 8 at (1, 3) reads (1, 2) and (3, 2): 1 + 5;
    # gate 9 at (2, 3) reads gate 8 twice: 1
    assert _kernel(genome, "length", "evolved")[0] == 12 + 12 + 6 + 1
    assert _kernel(genome, "count", "evolved")[0] == 19  # positions do not change the count


def test_evolved_positions_move_only_the_cost():
    """Position genes change what a circuit costs, never what it computes or which wires it has."""
    task = LogicTask(layout="evolved")
    genomes = task.random_genomes(200, np.uint64(5))
    moved = genomes.copy()
    moved[:, task.wiring_length:] = task.random_genomes(200, np.uint64(6))[:, task.wiring_length:]
    target = task.pack(np.arange(task.n_rows) % 3 == 0)[0]
    assert np.array_equal(task.performance(genomes, target), task.performance(moved, target))
    assert np.array_equal(_kernel(genomes, "count", "evolved"), _kernel(moved, "count", "evolved"))
    assert not np.array_equal(_kernel(genomes, "length", "evolved"),
                              _kernel(moved, "length", "evolved"))


@pytest.mark.parametrize("kind,layout", [("count", "line"), ("length", "line"), ("length", "grid"),
                                         ("length", "evolved")])
def test_kernels_equal_the_functional_graph_oracle(kind, layout):
    task = LogicTask(layout=layout)
    genomes = task.random_genomes(300, np.uint64(11))
    got = _kernel(genomes, kind, layout)
    expected = [_cost_from_graph(task, g, kind, layout) for g in genomes]
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("n_inputs,max_gates,layout", [(3, 7, "line"), (5, 20, "grid"),
                                                       (4, 12, "grid"), (4, 9, "evolved")])
@pytest.mark.parametrize("kind", ["count", "length"])
def test_fused_pass_at_every_size(n_inputs, max_gates, layout, kind):
    """The fused pass is compiled apart for the card's size (4 inputs, 12 gates) and for each
    kind: every variant equals the two separate kernels."""
    task = LogicTask(n_inputs, max_gates, layout)
    genomes = task.random_genomes(200, np.uint64(n_inputs * max_gates))
    assert np.array_equal(_kernel(genomes, kind, layout, task),
                          [_cost_from_graph(task, g, kind, layout) for g in genomes])
