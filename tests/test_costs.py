import numpy as np
import pytest

from evosim import costs
from evosim.tasks.logic import LogicTask, count_correct
from tasks.test_logic import MODULAR_G1_GENOME


def _cost_from_graph(task, genome, kind, layout):
    """Oracle: the cost from the functional network's edge list."""
    _, edges = task.functional_network(genome)
    if kind == "count":
        return float(len(edges))
    xy = costs.positions(layout, task.n_inputs, task.max_gates)
    return float(sum(((xy[a] - xy[b]) ** 2).sum() for a, b in edges))


def _kernel(genomes, kind, layout, task=LogicTask()):
    sq = costs.squared_distances(costs.positions(layout, task.n_inputs, task.max_gates))
    out = np.empty(len(genomes))
    costs.connection_costs(genomes, task.n_inputs, costs.COST_KINDS.index(kind), sq, out)
    numpy = costs.connection_costs_numpy(genomes, task.n_inputs, costs.COST_KINDS.index(kind), sq)
    assert np.array_equal(out, numpy)
    if kind != "none":  # the fused forward pass of the hot loop gives the same costs and scores
        target = task.pack(np.arange(task.n_rows) % 3 == 0)[0]
        correct, fused = np.empty(len(genomes), dtype=np.int64), np.empty(len(genomes))
        costs.correct_and_costs(genomes, task.n_inputs, task.input_words, target, task.row_mask,
                                costs.COST_KINDS.index(kind), sq, correct, fused)
        expected = np.empty(len(genomes), dtype=np.int64)
        count_correct(genomes, task.n_inputs, task.input_words, target, task.row_mask, expected)
        assert np.array_equal(fused, out) and np.array_equal(correct, expected)
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


@pytest.mark.parametrize("kind,layout", [("count", "line"), ("length", "line"), ("length", "grid")])
def test_kernels_equal_the_functional_graph_oracle(kind, layout):
    task = LogicTask()
    genomes = task.random_genomes(300, np.uint64(11))
    got = _kernel(genomes, kind, layout)
    expected = [_cost_from_graph(task, g, kind, layout) for g in genomes]
    assert np.array_equal(got, expected)
